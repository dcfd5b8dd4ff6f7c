/**
 * @module The circuit breaker's arithmetic: an endpoint whose every attempt has failed for 5 days is disabled (as
 * Svix does), beside the 410 rule. Attempts come from many order objects, in any order: a success ends the failing
 * streak only if it came after the streak began, and a failure older than the last success starts none.
 */
import type { EndpointHealthRow } from '../storage/monitor'

export const BREAKER_FAILING_MS = 5 * 24 * 3600_000

export interface AttemptOutcome {
  at: number
  ok: boolean
}

/**
 * The health after these attempts to `url` (a new URL starts afresh). Attempts to another URL that all came before the
 * kept URL's last attempt are a late report about an endpoint since replaced (a projection record re-driven, say):
 * they leave the health as it is, so they cannot end the current URL's failing streak. `enabledAt`: when the endpoint was
 * last enabled again; no failure before it starts a streak.
 */
export function recordAttempts(
  health: EndpointHealthRow | null,
  url: string,
  attempts: readonly AttemptOutcome[],
  enabledAt: number | null = null,
): EndpointHealthRow {
  if (health !== null && health.url !== url) {
    const lastAttempt = Math.max(health.lastSuccessAt ?? Number.NEGATIVE_INFINITY, health.lastFailureAt ?? Number.NEGATIVE_INFINITY)
    if (attempts.every((attempt) => attempt.at < lastAttempt)) return health
  }
  let next: EndpointHealthRow =
    health !== null && health.url === url ? { ...health } : { url, failingSince: null, lastFailureAt: null, lastSuccessAt: null }
  for (const attempt of [...attempts].sort((a, b) => a.at - b.at)) {
    if (attempt.ok) {
      // A success reported after failures that came later (through the projection queue, say) ends the streak before
      // it; the one after it began by the last failure known, at the latest.
      const failedSince =
        next.lastFailureAt !== null && next.lastFailureAt > attempt.at && next.lastFailureAt > (enabledAt ?? Number.NEGATIVE_INFINITY)
          ? next.lastFailureAt
          : null
      if (next.failingSince !== null && attempt.at >= next.failingSince) next = { ...next, failingSince: failedSince }
      next = { ...next, lastSuccessAt: Math.max(next.lastSuccessAt ?? attempt.at, attempt.at) }
    } else {
      next = { ...next, lastFailureAt: Math.max(next.lastFailureAt ?? attempt.at, attempt.at) }
      // A failure before the last success, or before the endpoint was last enabled again, starts no streak.
      if (attempt.at > Math.max(next.lastSuccessAt ?? Number.NEGATIVE_INFINITY, enabledAt ?? Number.NEGATIVE_INFINITY)) {
        next = { ...next, failingSince: Math.min(next.failingSince ?? attempt.at, attempt.at) }
      }
    }
  }
  return next
}

/** Every attempt has failed for at least 5 days: time to stop calling. */
export function shouldTrip(health: EndpointHealthRow): boolean {
  return health.failingSince !== null && health.lastFailureAt !== null && health.lastFailureAt - health.failingSince >= BREAKER_FAILING_MS
}
