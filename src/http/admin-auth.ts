/**
 * @module Admin API authentication: `Authorization: Bearer <ADMIN_TOKEN>` (or ADMIN_TOKEN_PREVIOUS while a
 * rotation is under way), compared in constant time.
 */
import { utf8 } from '../crypto/encoding'
import { sha256, timingSafeEqual } from '../crypto/primitives'
import { isAdminTokenShaped } from '../lib/admin-token'
import { log } from '../lib/log'
import { isDevelopment } from '../lib/environment'
import type { AdminTokenUsed } from './admin-audit'
import { AdminError } from './responses'

/**
 * The shortest admin token taken outside development: a guessable one (the example's `dev-admin-token`, a word) would
 * hand over every merchant's forward URL. 32 characters is `openssl rand -hex 16`'s length; README asks for longer.
 */
export const MIN_ADMIN_TOKEN_LENGTH = 32

/**
 * The token as the gateway takes it: null when unset, or when too short outside development (refused as unset, and the
 * operator told why in the log: the API stays locked rather than open to a guess).
 */
function usableToken(env: Env, name: 'ADMIN_TOKEN' | 'ADMIN_TOKEN_PREVIOUS'): string | null {
  const token = env[name]
  if (token === undefined || token === '') return null
  if (token.length < MIN_ADMIN_TOKEN_LENGTH && !isDevelopment(env)) {
    log('error', { event: 'admin.token_too_short', secret: name, reason: `shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters` })
    return null
  }
  return token
}

/** Why a request was not signed in, as the `admin.refused` line says it. */
type RefusalReason = 'no_bearer_token' | 'admin_token_unset' | 'token_not_accepted'

/** The longest path a sign-in line quotes: a probe's path is the prober's text. */
const MAX_LOGGED_PATH = 200

/**
 * Refuses the request, and says so in the log: a refused sign-in is the trace a guessed or leaked-and-revoked token
 * leaves. Route and client address only, never the header.
 */
function refuse(request: Request, reason: RefusalReason): never {
  log('warn', { event: 'admin.refused', reason, ...requestRoute(request), client_ip: request.headers.get('cf-connecting-ip') })
  throw new AdminError('unauthorized', 'a valid bearer token is required')
}

/** The method and path a sign-in line names: never the query (a misplaced token could be in it), the path cut short. */
function requestRoute(request: Request): { method: string; path: string } {
  return { method: request.method, path: new URL(request.url).pathname.slice(0, MAX_LOGGED_PATH) }
}

/** Throws `unauthorized` unless the request carries an admin token. An unset (or, outside development, short) ADMIN_TOKEN locks the API. */
export async function requireAdmin(request: Request, env: Env): Promise<AdminTokenUsed> {
  const header = request.headers.get('authorization') ?? ''
  const match = /^Bearer (.+)$/.exec(header)
  if (match === null || !isAdminTokenShaped(match[1]!)) refuse(request, 'no_bearer_token')
  const expected = usableToken(env, 'ADMIN_TOKEN')
  if (expected === null) refuse(request, 'admin_token_unset')
  // The previous token only while it is set to something: an empty one must never match.
  const previous = usableToken(env, 'ADMIN_TOKEN_PREVIOUS')
  // Hash every side first so the comparison takes the same time whatever the lengths, and compare with both.
  const [given, wanted, before] = await Promise.all([sha256(utf8(match[1]!)), sha256(utf8(expected)), sha256(utf8(previous ?? expected))])
  const current = timingSafeEqual(given, wanted)
  const rotated = timingSafeEqual(given, before) && previous !== null
  if (!current && !rotated) refuse(request, 'token_not_accepted')
  // Whoever still signs in with the previous token must move before it is deleted: say so, by route, never the token.
  if (!current) log('warn', { event: 'admin.previous_token', ...requestRoute(request) })
  return current ? 'current' : 'previous'
}
