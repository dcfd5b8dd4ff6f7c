/** @module Admin API authentication: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
import { sha256 } from '../crypto/primitives'
import { utf8 } from '../crypto/encoding'
import { timingSafeEqual } from '../crypto/primitives'
import { AdminError } from './responses'

/** Throws `unauthorized` unless the request carries the admin token. An unset token locks the API. */
export async function requireAdmin(request: Request, env: Env): Promise<void> {
  const expected = env.ADMIN_TOKEN
  const header = request.headers.get('authorization') ?? ''
  const match = /^Bearer ([\x21-\x7e]+)$/.exec(header)
  if (expected === undefined || expected === '' || match === null) {
    throw new AdminError('unauthorized', 'a valid bearer token is required')
  }
  // Hash both sides first so the comparison takes the same time whatever the lengths.
  const [given, wanted] = await Promise.all([sha256(utf8(match[1]!)), sha256(utf8(expected))])
  if (!timingSafeEqual(given, wanted)) throw new AdminError('unauthorized', 'a valid bearer token is required')
}
