/**
 * @module Where the CLI finds the gateway: PAYGATE_URL and PAYGATE_ADMIN_TOKEN, else the local dev gateway
 * (`npm run dev`: http://localhost:8787, its ADMIN_TOKEN read from .dev.vars).
 */
import { existsSync, readFileSync } from 'node:fs'

export const LOCAL_GATEWAY = 'http://localhost:8787'
const DEV_VARS = new URL('../.dev.vars', import.meta.url)

export interface CliConfig {
  url: string
  token: string
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** `KEY=value` lines of .dev.vars (comments and blank lines skipped), or nothing when there is no such file. */
function devVars(): Record<string, string> {
  if (!existsSync(DEV_VARS)) return {}
  const vars: Record<string, string> = {}
  for (const line of readFileSync(DEV_VARS, 'utf8').split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (match === null || line.trimStart().startsWith('#')) continue
    vars[match[1]!] = match[2]!.replace(/^(["'])(.*)\1$/, '$2')
  }
  return vars
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const url = (env.PAYGATE_URL ?? LOCAL_GATEWAY).replace(/\/+$/, '')
  // The dev token only for the dev gateway: never send a local secret to another host.
  const token = env.PAYGATE_ADMIN_TOKEN ?? (url === LOCAL_GATEWAY ? devVars().ADMIN_TOKEN : undefined)
  if (token === undefined || token === '') {
    throw new ConfigError('no admin token: set PAYGATE_ADMIN_TOKEN (and PAYGATE_URL for a gateway other than the local one)')
  }
  return { url, token }
}
