/**
 * @module Admin API authentication: `Authorization: Bearer <ADMIN_TOKEN>` (or ADMIN_TOKEN_PREVIOUS while a
 * rotation is under way), compared in constant time.
 */
import { utf8 } from '../crypto/encoding'
import { sha256, timingSafeEqual } from '../crypto/primitives'
import { isAdminTokenShaped } from '../lib/admin-token'
import { log } from '../lib/log'
import { AdminError } from './responses'

/** Throws `unauthorized` unless the request carries an admin token. An unset ADMIN_TOKEN locks the API. */
export async function requireAdmin(request: Request, env: Env): Promise<void> {
  const expected = env.ADMIN_TOKEN
  const header = request.headers.get('authorization') ?? ''
  const match = /^Bearer (.+)$/.exec(header)
  if (expected === undefined || expected === '' || match === null || !isAdminTokenShaped(match[1]!)) {
    throw new AdminError('unauthorized', 'a valid bearer token is required')
  }
  // The previous token only while it is set to something: an empty one must never match.
  const previous = env.ADMIN_TOKEN_PREVIOUS === undefined || env.ADMIN_TOKEN_PREVIOUS === '' ? null : env.ADMIN_TOKEN_PREVIOUS
  // Hash every side first so the comparison takes the same time whatever the lengths, and compare with both.
  const [given, wanted, before] = await Promise.all([sha256(utf8(match[1]!)), sha256(utf8(expected)), sha256(utf8(previous ?? expected))])
  const current = timingSafeEqual(given, wanted)
  const rotated = timingSafeEqual(given, before) && previous !== null
  if (!current && !rotated) throw new AdminError('unauthorized', 'a valid bearer token is required')
  // Whoever still signs in with the previous token must move before it is deleted: say so, by route, never the token.
  if (!current) log('warn', { event: 'admin.previous_token', method: request.method, path: new URL(request.url).pathname })
}
