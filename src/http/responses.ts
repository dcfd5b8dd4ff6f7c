/** @module JSON replies and the admin API's error shape `{"error":{"code","message"}}`. */

export type AdminErrorCode = 'unauthorized' | 'not_found' | 'invalid_request' | 'conflict' | 'method_not_allowed' | 'internal'

const ADMIN_ERROR_STATUS: Record<AdminErrorCode, number> = {
  unauthorized: 401,
  not_found: 404,
  invalid_request: 400,
  conflict: 409,
  method_not_allowed: 405,
  internal: 500,
}

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

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  })
}

export function adminErrorResponse(error: AdminError): Response {
  const headers: Record<string, string> =
    error.code === 'unauthorized' ? { 'www-authenticate': 'Bearer' } : error.code === 'method_not_allowed' ? { allow: 'POST' } : {}
  return json({ error: { code: error.code, message: error.message } }, error.status, headers)
}

/** Reads a JSON request body, or throws `invalid_request` naming what is wrong. */
export async function readJsonBody(request: Request): Promise<unknown> {
  const text = await request.text()
  if (text.length > 64 * 1024) throw new AdminError('invalid_request', 'body: larger than 64 KiB')
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new AdminError('invalid_request', 'body: not valid JSON')
  }
}
