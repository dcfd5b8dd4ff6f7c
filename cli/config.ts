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
  const url = gatewayOrigin(env.PAYGATE_URL ?? localGateway())
  // The dev token only for the dev gateway: never send a local secret to another host.
  // Trimmed, as a header value is: a token file's final newline is no part of it.
  const token = (env.PAYGATE_ADMIN_TOKEN ?? (isLocalGateway(url) ? readDevVarsIfPresent().ADMIN_TOKEN : undefined))?.trim()
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

/** Loopback names of this machine, each naming the dev gateway's origin (it listens on 127.0.0.1, where localhost goes). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Whether `origin` is `npm run dev`'s gateway, by any loopback name of it (http://127.0.0.1:8787 as localhost:8787). */
export function isLocalGateway(origin: string): boolean {
  const url = new URL(origin)
  const local = new URL(localGateway())
  return url.protocol === local.protocol && url.port === local.port && LOOPBACK_HOSTS.has(url.hostname)
}

/** PAYGATE_URL as the origin the API's paths go under: http(s), no path (a trailing slash is fine), no query. */
function gatewayOrigin(configured: string): string {
  const trimmed = configured.trim().replace(/\/+$/, '')
  // Quoted in messages without any user name or password it holds.
  const shown = JSON.stringify(trimmed.replace(/^([a-z][a-z\d+.-]*:\/\/)?[^/@]*@/i, '$1…@'))
  if (!/^[a-z][a-z\d+.-]*:\/\//i.test(trimmed)) throw new ConfigError(`PAYGATE_URL ${shown} must start with http:// or https://`)
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    throw new ConfigError(`PAYGATE_URL ${shown} is not a URL: give the gateway's origin, such as https://paygate.example.com`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`PAYGATE_URL ${shown} must start with http:// or https://`)
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(
      `PAYGATE_URL ${shown} holds a user name or password: give the origin alone; the token goes in PAYGATE_ADMIN_TOKEN`,
    )
  }
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new ConfigError(
      `PAYGATE_URL ${shown} is http:// to another machine: the admin token would cross the network in clear; use https://`,
    )
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(
      `PAYGATE_URL ${JSON.stringify(`${url.origin}${url.pathname}`)} has a path or more: give the gateway's origin alone (${url.origin}); the commands add /admin/…`,
    )
  }
  return url.origin
}
