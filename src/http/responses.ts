/** @module JSON replies and the admin API's error shape `{"error":{"code","message"}}`. */
import { BodyTooLarge, readBodyWithLimit } from '../lib/read-body'

const ADMIN_BODY_LIMIT = 64 * 1024

/** Each documented error code and its HTTP status. */
export const ADMIN_ERROR_STATUS = {
  unauthorized: 401,
  not_found: 404,
  invalid_request: 400,
  conflict: 409,
  method_not_allowed: 405,
  internal: 500,
} as const satisfies Record<string, number>

export type AdminErrorCode = keyof typeof ADMIN_ERROR_STATUS
export const ADMIN_ERROR_CODES = Object.keys(ADMIN_ERROR_STATUS) as AdminErrorCode[]

/** Thrown by admin handlers; the router turns it into the documented error reply. */
export class AdminError extends Error {
  override readonly name = 'AdminError'
  constructor(
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message)
  }

  get status(): number {
    return ADMIN_ERROR_STATUS[this.code]
  }
}

/**
 * Every admin reply's headers beside its type: never stored by a cache on the way (they carry merchants' URLs, buyers'
 * ids in `raw`, merchants' replies), never sniffed as HTML nor framed, though they share the console's origin.
 */
const ADMIN_REPLY_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
}

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...ADMIN_REPLY_HEADERS, ...headers } })
}

export function adminErrorResponse(error: AdminError): Response {
  const headers: Record<string, string> =
    error.code === 'unauthorized' ? { 'www-authenticate': 'Bearer' } : error.code === 'method_not_allowed' ? { allow: 'POST' } : {}
  return json({ error: { code: error.code, message: error.message } }, error.status, headers)
}

/**
 * Reads a JSON request body, or throws `invalid_request` naming what is wrong. `emptyIsObject`: a body of no bytes
 * stands for `{}` (a route whose fields are all optional takes none); otherwise it is not valid JSON.
 */
export async function readJsonBody(request: Request, emptyIsObject = false): Promise<unknown> {
  let bytes: Uint8Array
  try {
    // Streamed with a cap, as provider callbacks are: an oversized body is never held whole.
    bytes = await readBodyWithLimit(request, ADMIN_BODY_LIMIT)
  } catch (error) {
    throw new AdminError('invalid_request', error instanceof BodyTooLarge ? 'body: larger than 64 KiB' : 'body: could not be read')
  }
  if (bytes.length === 0 && emptyIsObject) return {}
  const text = new TextDecoder().decode(bytes)
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new AdminError('invalid_request', 'body: not valid JSON')
  }
}
