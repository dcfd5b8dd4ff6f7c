/**
 * @module The admin API from the browser. The token is kept in `sessionStorage`: readable by this origin's scripts
 * only (and the Content-Security-Policy lets no other script run here), sent as `Authorization: Bearer` on each call
 * (never in a URL, never in a cookie, so another site cannot make the browser send it: no CSRF), and forgotten on
 * sign-out, on a 401 and when the tab closes.
 */
import type { components } from '../../cli/openapi-types'

export type Schemas = components['schemas']

const TOKEN_KEY = 'paygate.admin-token'

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  keep: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  forget: (): void => sessionStorage.removeItem(TOKEN_KEY),
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

/** Called when the API refuses the token: the app shows the sign-in form again. */
let onSignedOut: () => void = () => {}
export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback
}

async function call(token: string, path: string, method: string, body: unknown): Promise<Response> {
  return fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  })
}

/** A JSON call to the admin API; throws `ApiError` with the API's own message. */
export async function api<T>(path: string, options: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<T> {
  const token = session.token()
  if (token === null) {
    onSignedOut()
    throw new ApiError(401, 'unauthorized', 'signed out')
  }
  const response = await call(token, path, options.method ?? 'GET', options.body)
  const reply = (await response.json().catch(() => null)) as { error?: { code: string; message: string } } | null
  if (response.status === 401) {
    session.forget()
    onSignedOut()
  }
  if (!response.ok) throw new ApiError(response.status, reply?.error?.code ?? 'internal', reply?.error?.message ?? response.statusText)
  return reply as T
}

/** Whether the API takes this token (one cheap read), before it is kept. */
export async function tokenWorks(token: string): Promise<boolean> {
  const response = await call(token, '/admin/merchants?limit=1', 'GET', undefined)
  return response.ok
}

/** `/admin/merchants/{id}/…` with each path value encoded once. */
export function merchantPath(merchantId: string, ...rest: string[]): string {
  return ['/admin/merchants', merchantId, ...rest].map((part, i) => (i === 0 ? part : encodeURIComponent(part))).join('/')
}

export function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '')
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`
}
