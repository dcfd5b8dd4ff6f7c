/**
 * @module When to retry a forwarded event after a failed attempt: a fixed table (11 attempts over about two
 * days), ±20 % jitter so merchants recovering from an outage are not hit in lockstep, and `Retry-After` honoured
 * within bounds. The same table whatever the failure (a 503 or a timeout too): the contract wants the first retry
 * within 10 s and the second within a minute. Each wait counts from the failed attempt's start
 * (`nextRetryAt`, for merchant deliveries and ops webhooks alike). Pure: the random source is injected.
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md (retry schedule)
 */
import type { AttemptError } from './attempt-errors'

/**
 * Delay before each attempt, in seconds: index 0 is the first attempt (immediately), index n the wait after
 * attempt n failed. The waits add up to 46 h 42 min 35 s, so with jitter a merchant is retried for well over
 * the contract's 24 hours.
 */
export const DELIVERY_SCHEDULE_SECONDS = [
  0,
  5,
  30,
  2 * 60,
  10 * 60,
  30 * 60,
  60 * 60,
  3 * 60 * 60,
  6 * 60 * 60,
  12 * 60 * 60,
  24 * 60 * 60,
] as const

export const MAX_DELIVERY_ATTEMPTS = DELIVERY_SCHEDULE_SECONDS.length

/** Each wait is spread uniformly over [wait × 0.8, wait × 1.2). */
export const JITTER_RATIO = 0.2

/**
 * `Retry-After` may push a retry later, but never beyond this multiple of the scheduled wait: 1.3 keeps the contract's
 * bounds whatever the merchant asks. Waits count from an attempt's start, which is before its DNS lookup (3 s at most)
 * and its 15 s with the merchant: the first retry comes 6.5 s after the first attempt began, or as it ends (18 s at
 * most); the second 39 s after the first retry began, so within 57 s of the first attempt.
 */
export const RETRY_AFTER_CAP_FACTOR = 1.3

/**
 * The attempt that failed (an `AttemptResult` of kind `retry` fits). Every failure waits by the same table; only
 * the merchant's `Retry-After` moves a retry.
 */
export interface FailedAttempt {
  statusCode: number | null
  error?: AttemptError
  /** The merchant's `Retry-After`, in seconds. */
  retryAfter?: number
}

export interface RetryDelayInput {
  /** Attempts made so far, including the one that just failed. */
  attemptsMade: number
  failure: FailedAttempt
  /** Uniform in [0, 1), e.g. `Math.random`. */
  random: () => number
  /**
   * How long the failed attempt took (default 0). The delay counts from the attempt's start (`retryDueAt`), but a
   * `Retry-After` from the merchant's reply: a slow reply asking for 40 s is not retried 37 s after it.
   */
  elapsedMs?: number
}

/**
 * Milliseconds to wait before the next attempt, or null when all attempts are used up (the event is then
 * marked failed and kept for replay). The rule, with `wait` the table entry:
 * jittered = wait × U[0.8, 1.2); with a `Retry-After` of r seconds, given after e seconds, the delay is
 * min(max(jittered, e + r), 1.3 × wait), so the merchant can ask for more time but cannot stall the order's queue
 * indefinitely, nor speed it up.
 */
export function nextRetryDelayMs({ attemptsMade, failure, random, elapsedMs = 0 }: RetryDelayInput): number | null {
  if (!Number.isSafeInteger(attemptsMade) || attemptsMade < 1) throw new RangeError('attemptsMade must be ≥ 1')
  if (attemptsMade >= MAX_DELIVERY_ATTEMPTS) return null
  const wait = DELIVERY_SCHEDULE_SECONDS[attemptsMade]!
  const r = random()
  if (!(r >= 0 && r < 1)) throw new RangeError('random() must return a number in [0, 1)')
  const jittered = wait * (1 + JITTER_RATIO * (2 * r - 1))
  const seconds =
    failure.retryAfter === undefined
      ? jittered
      : Math.min(Math.max(jittered, elapsedMs / 1000 + failure.retryAfter), wait * RETRY_AFTER_CAP_FACTOR)
  return Math.round(seconds * 1000)
}

/**
 * When the retry after a failed attempt is due: its wait counts from the attempt's start, so a merchant failing slowly
 * (an attempt taking its whole 15 s) is retried as often as one failing fast; never before the attempt ended.
 */
export function retryDueAt(attempt: { startedAt: number; finishedAt: number }, delayMs: number): number {
  return Math.max(attempt.startedAt + delayMs, attempt.finishedAt)
}

/**
 * When to try again after a failed attempt (`nextRetryDelayMs` from the attempt's start, `retryDueAt`), or null when
 * all attempts are used up: the one rule of both outboxes (merchant deliveries, ops webhooks).
 */
export function nextRetryAt(input: Omit<RetryDelayInput, 'elapsedMs'> & { startedAt: number; finishedAt: number }): number | null {
  const { startedAt, finishedAt, ...rest } = input
  const delay = nextRetryDelayMs({ ...rest, elapsedMs: finishedAt - startedAt })
  return delay === null ? null : retryDueAt({ startedAt, finishedAt }, delay)
}

/**
 * A `Retry-After` header as seconds from `now` (epoch milliseconds): either delay-seconds or an HTTP-date.
 * A date in the past gives 0; an absent or unreadable header gives null.
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-retry-after
 */
export function parseRetryAfter(header: string | null | undefined, now: number): number | null {
  if (header == null) return null
  const value = header.trim()
  if (/^\d+$/.test(value)) return Number(value)
  // Date.parse accepts far more than HTTP-date; all three HTTP-date forms start with a weekday name.
  if (!/^[A-Za-z]{3,9},? /.test(value)) return null
  const at = Date.parse(value)
  if (Number.isNaN(at)) return null
  return Math.max(0, Math.ceil((at - now) / 1000))
}
