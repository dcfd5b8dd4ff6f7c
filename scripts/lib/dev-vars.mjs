// `.dev.vars`, the local settings of `npm run dev`, as the scripts and the admin CLI read them: the Worker's
// secrets (wrangler dev loads those itself), and PORT, STANDIN_PORT and LISTEN_PORT, the local gateway's, the provider
// stand-in's and the demo merchant's listener's ports, which only the scripts use.
import { existsSync, readFileSync } from 'node:fs'

export const DEV_VARS_FILE = new URL('../../.dev.vars', import.meta.url)
/** The local gateway's port when `.dev.vars` sets no PORT. */
export const DEFAULT_GATEWAY_PORT = 8787
/** The provider stand-in's port when `.dev.vars` sets no STANDIN_PORT. */
export const DEFAULT_STANDIN_PORT = 8790
/** `npm run listen`'s port, where the demo merchants forward, when `.dev.vars` sets no LISTEN_PORT. */
export const DEFAULT_LISTEN_PORT = 4242

/** Thrown when a value of `.dev.vars` is unusable: the message names the key. */
export class DevVarsError extends Error {
  name = 'DevVarsError'
}

/** `KEY=value` lines (comments and blank lines skipped; one pair of surrounding quotes removed). */
export function parseDevVars(text) {
  const vars = {}
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (match === null || line.trimStart().startsWith('#')) continue
    vars[match[1]] = match[2].replace(/^(["'])(.*)\1$/, '$2')
  }
  return vars
}

/** `.dev.vars` parsed, or `{}` before `npm run dev` has created it. */
export function readDevVarsIfPresent(file = DEV_VARS_FILE) {
  return existsSync(file) ? parseDevVars(readFileSync(file, 'utf8')) : {}
}

/** The port `npm run dev` serves the gateway on and the local commands reach it at: PORT of `.dev.vars`, else 8787. */
export function gatewayPort(file = DEV_VARS_FILE) {
  return portOf('PORT', DEFAULT_GATEWAY_PORT, file)
}

/** The provider stand-in's port (scripts/provider-standin.mjs): STANDIN_PORT of `.dev.vars`, else 8790. */
export function standinPort(file = DEV_VARS_FILE) {
  return portOf('STANDIN_PORT', DEFAULT_STANDIN_PORT, file)
}

/** `npm run listen`'s port, in the demo merchants' forward URL: LISTEN_PORT of `.dev.vars`, else 4242. */
export function listenPort(file = DEV_VARS_FILE) {
  return portOf('LISTEN_PORT', DEFAULT_LISTEN_PORT, file)
}

/** The path `npm run listen` receives events on. */
export const LISTEN_PATH = '/webhooks'

/** Where the demo merchants forward: `npm run listen` on LISTEN_PORT of `.dev.vars` (default 4242). */
export function listenUrl(port = listenPort()) {
  return `http://localhost:${port}${LISTEN_PATH}`
}

/** The stand-in's origin: the demo merchants' provider API base URL. */
export function standinUrl(port = standinPort()) {
  return `http://127.0.0.1:${port}`
}

function portOf(key, fallback, file) {
  const port = readDevVarsIfPresent(file)[key]
  // Empty is unset, as for the optional keys of .dev.vars.example.
  if (port === undefined || port === '') return fallback
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new DevVarsError(`.dev.vars: ${key}=${port} is not a port number (an integer from 1 to 65535)`)
  }
  return Number(port)
}

/** The local gateway's URL, as the commands print and reach it. */
export function gatewayUrl(port = gatewayPort()) {
  return `http://localhost:${port}`
}
