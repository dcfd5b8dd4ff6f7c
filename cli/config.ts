/**
 * @module Where the CLI finds the gateway: PAYGATE_URL and PAYGATE_ADMIN_TOKEN, else the local dev gateway
 * (`npm run dev`: http://localhost:8787 or the PORT of .dev.vars, its ADMIN_TOKEN read from .dev.vars).
 */
import { DevVarsError, gatewayUrl, readDevVarsIfPresent } from '../scripts/lib/dev-vars.mjs'
import { isAdminTokenShaped } from '../src/lib/admin-token.ts'

export interface CliConfig {
  url: string
  token: string
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const url = (env.PAYGATE_URL ?? localGateway()).replace(/\/+$/, '')
  // The dev token only for the dev gateway: never send a local secret to another host.
  // Trimmed, as a header value is: a token file's final newline is no part of it.
  const token = (env.PAYGATE_ADMIN_TOKEN ?? (url === localGateway() ? readDevVarsIfPresent().ADMIN_TOKEN : undefined))?.trim()
  if (token === undefined || token === '') {
    throw new ConfigError('no admin token: set PAYGATE_ADMIN_TOKEN (and PAYGATE_URL for a gateway other than the local one)')
  }
  // Checked here, not by the request's headers, whose error would quote the token (a file of two lines, say).
  if (!isAdminTokenShaped(token)) {
    throw new ConfigError('the admin token holds a space, a line break or a non-ASCII character: give the token alone')
  }
  return { url, token }
}

/** `npm run dev`'s gateway, at the PORT of .dev.vars; a bad PORT is a ConfigError, which admin.ts reports with the usage. */
function localGateway(): string {
  try {
    return gatewayUrl()
  } catch (error) {
    if (error instanceof DevVarsError) throw new ConfigError(error.message)
    throw error
  }
}
