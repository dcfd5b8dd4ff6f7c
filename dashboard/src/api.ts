/**
 * @module The admin API from the browser. The token is kept in `sessionStorage`: readable by this origin's scripts
 * only (and the Content-Security-Policy lets no other script run here), sent as `Authorization: Bearer` on each call
 * (never in a URL, never in a cookie, so another site cannot make the browser send it: no CSRF), and forgotten on
 * sign-out, on a 401 and when the tab closes.
 */
import type { components } from '../../cli/openapi-types'
import { isAdminTokenShaped } from '../../src/lib/admin-token'

export type Schemas = components['schemas']

const TOKEN_KEY = 'paygate.admin-token'

const MERCHANT_KEY = 'paygate.last-merchant'

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  keep: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  /** Sign-out: the token and everything else this tab kept. */
  forget: (): void => sessionStorage.clear(),
  /** The merchant last opened in this tab: the one pages without a merchant of their own (Rejected) start with. */
  lastMerchant: (): string | null => sessionStorage.getItem(MERCHANT_KEY),
  rememberMerchant: (merchantId: string): void => sessionStorage.setItem(MERCHANT_KEY, merchantId),
}

export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** Requests the API's messages quote, each named as the console's control that makes it. */
const CONTROLS: Readonly<Record<string, string>> = {
  'POST …/endpoint/enable': "“Enable endpoint”, on the merchant's page",
}

/**
 * A refusal (409) of what a button asked, in the console's words: the button (and what it was for), then the API's
 * reason, where a request it quotes (`POST …/endpoint/enable`) is named as the control that makes it; one the console
 * has none for is left out, for an API path is not something to click.
 */
export function refusalOf(error: ApiError, button: string, of?: string): string {
  const reason = error.message.replace(/ \(((?:GET|POST|PUT|PATCH|DELETE) [^)]*)\)/g, (_quoted, request: string) =>
    Object.hasOwn(CONTROLS, request) ? ` (${CONTROLS[request]})` : '',
  )
  const said = `${reason.charAt(0).toUpperCase()}${reason.slice(1)}`
  return `“${button}”${of === undefined ? '' : ` (${of})`} was refused. ${said}${said.endsWith('.') ? '' : '.'}`
}

/** Called when the API refuses the token: the app shows the sign-in form again. */
let onSignedOut: () => void = () => {}
export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback
}

/** The gateway could not be reached at all: no reply, so nothing was refused. */
const UNREACHABLE = 'The gateway could not be reached: check that it is running and try again.'
const MALFORMED_TOKEN =
  'The token holds a space, a line break or a character no token has (a typographic quote, a non-ASCII letter): paste it again.'

async function call(token: string, path: string, method: string, body: unknown): Promise<Response> {
  // Told apart from an unreachable gateway: fetch throws the same TypeError for a token no header can carry.
  if (!isAdminTokenShaped(token)) throw new ApiError(0, 'malformed_token', MALFORMED_TOKEN)
  try {
    return await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    })
  } catch {
    throw new ApiError(0, 'unreachable', UNREACHABLE)
  }
}

/** The API's own message for a 4xx; a 5xx (or a reply not in the admin error shape) says the gateway failed. */
async function errorOf(response: Response): Promise<ApiError> {
  const reply = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null
  const own = reply?.error?.message
  const message =
    response.status < 500 && own !== undefined ? own : `The gateway answered an error (HTTP ${response.status})${own ? `: ${own}` : '.'}`
  return new ApiError(response.status, reply?.error?.code ?? 'internal', message)
}

/** A JSON call to the admin API; throws `ApiError` with the API's own message. */
export async function api<T>(path: string, options: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<T> {
  const token = session.token()
  if (token === null) {
    onSignedOut()
    throw new ApiError(401, 'unauthorized', 'signed out')
  }
  const response = await call(token, path, options.method ?? 'GET', options.body)
  if (response.status === 401) {
    session.forget()
    onSignedOut()
  }
  if (!response.ok) throw await errorOf(response)
  return (await response.json().catch(() => null)) as T
}

/**
 * Whether the API takes this token (one cheap read), before it is kept: false only on a 401. Throws `ApiError` when
 * the gateway cannot be reached or answers anything else, for that says nothing about the token.
 */
export async function tokenWorks(token: string): Promise<boolean> {
  const response = await call(token, '/admin/merchants?limit=1', 'GET', undefined)
  if (response.status === 401) return false
  if (!response.ok) throw await errorOf(response)
  return true
}

/** `/admin/merchants/{id}/…` with each path value encoded once. */
export function merchantPath(merchantId: string, ...rest: string[]): string {
  return ['/admin/merchants', merchantId, ...rest].map((part, i) => (i === 0 ? part : encodeURIComponent(part))).join('/')
}

export function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '')
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`
}
