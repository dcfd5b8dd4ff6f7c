import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DELIVERY_SCHEDULE_SECONDS,
  MAX_DELIVERY_ATTEMPTS,
  nextRetryDelayMs,
  parseRetryAfter,
  retryDueAt,
  type FailedAttempt,
} from '../../src/delivery/schedule'

const SERVER_ERROR: FailedAttempt = { statusCode: 500 }
const middle = (): number => 0.5
const MINUTE = 60
const HOUR = 3600

function delayAfter(attemptsMade: number, failure: FailedAttempt = SERVER_ERROR, random = middle): number | null {
  return nextRetryDelayMs({ attemptsMade, failure, random })
}

/** Any value random() may return: uniform in [0, 1). */
const unitInterval = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })
/** An attempt that can still be retried. */
const retriableAttempt = fc.integer({ min: 1, max: MAX_DELIVERY_ATTEMPTS - 1 })

describe('the delivery schedule', () => {
  it('is immediately, 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h, 24 h: eleven attempts', () => {
    const table = [0, 5, 30, 2 * MINUTE, 10 * MINUTE, 30 * MINUTE, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR]
    expect(DELIVERY_SCHEDULE_SECONDS).toEqual(table)
    expect(MAX_DELIVERY_ATTEMPTS).toBe(11)
  })

  it('waits exactly the table entry when the jitter draw is in the middle', () => {
    for (let attemptsMade = 1; attemptsMade < MAX_DELIVERY_ATTEMPTS; attemptsMade++) {
      expect(delayAfter(attemptsMade)).toBe(DELIVERY_SCHEDULE_SECONDS[attemptsMade]! * 1000)
    }
  })

  it('keeps every jittered wait within ±20 % of the table entry', () => {
    fc.assert(
      fc.property(retriableAttempt, unitInterval, (attemptsMade, r) => {
        const scheduledMs = DELIVERY_SCHEDULE_SECONDS[attemptsMade]! * 1000
        const delay = delayAfter(attemptsMade, SERVER_ERROR, () => r)!
        expect(delay).toBeGreaterThanOrEqual(Math.round(scheduledMs * 0.8))
        expect(delay).toBeLessThanOrEqual(Math.round(scheduledMs * 1.2))
      }),
    )
  })

  it('spreads retries across the whole jitter window', () => {
    const at = (r: number): number | null => delayAfter(6, SERVER_ERROR, () => r)
    expect(at(0)).toBe(0.8 * HOUR * 1000)
    expect(at(0.25)).toBe(0.9 * HOUR * 1000)
    expect(at(0.999_999)).toBeGreaterThan(1.199 * HOUR * 1000)
  })

  it('gives up after the eleventh attempt', () => {
    expect(delayAfter(MAX_DELIVERY_ATTEMPTS - 1)).toBe(24 * HOUR * 1000)
    expect(delayAfter(MAX_DELIVERY_ATTEMPTS)).toBeNull()
    expect(delayAfter(MAX_DELIVERY_ATTEMPTS + 3)).toBeNull()
  })

  it('spans about two days in all, and never less than the contract’s 24 hours', () => {
    const span = (r: number): number => {
      let total = 0
      for (let attemptsMade = 1; ; attemptsMade++) {
        const delay = delayAfter(attemptsMade, SERVER_ERROR, () => r)
        if (delay === null) return total / 1000
        total += delay
      }
    }
    expect(span(0.5)).toBe(46 * HOUR + 42 * MINUTE + 35)
    expect(span(0)).toBeGreaterThan(36 * HOUR)
    expect(span(0.999_999)).toBeLessThan(57 * HOUR)
  })

  it('keeps the contract’s first two retries whatever failed: a 429, 502, 503, 504 or a timeout waits 5 s, then 30 s', () => {
    const failures = fc.constantFrom<FailedAttempt>(
      { statusCode: 429 },
      { statusCode: 502 },
      { statusCode: 503 },
      { statusCode: 504 },
      { statusCode: null, error: 'timeout' },
      { statusCode: null, error: 'network error' },
      { statusCode: 500 },
    )
    fc.assert(
      fc.property(unitInterval, failures, (r, failure) => {
        // contract.md: the first retry within 10 s of the first failed attempt, the second within a minute of it.
        const first = delayAfter(1, failure, () => r)!
        const second = delayAfter(2, failure, () => r)!
        expect(first).toBeLessThanOrEqual(6_000)
        expect(first + second).toBeLessThan(60_000)
        expect(first).toBe(delayAfter(1, SERVER_ERROR, () => r))
      }),
    )
  })

  it('honours a Retry-After that asks for more time than the schedule', () => {
    // After attempt 4 the table says 10 min; the merchant asks for 12 min.
    expect(delayAfter(4, { statusCode: 503, retryAfter: 720 })).toBe(720_000)
  })

  it('does not retry sooner than the schedule when Retry-After asks for less', () => {
    expect(delayAfter(6, { statusCode: 503, retryAfter: 1 })).toBe(HOUR * 1000)
  })

  it('caps Retry-After at 1.3 times the scheduled wait', () => {
    expect(delayAfter(2, { statusCode: 500, retryAfter: 86_400 })).toBe(39_000)
    // A 429 too: the first retry stays within the contract's 10 s.
    expect(delayAfter(1, { statusCode: 429, retryAfter: 86_400 })).toBe(6_500)
  })

  it('keeps the contract whatever Retry-After says: the first retry within 10 s, the second within a minute of the first attempt', () => {
    const retryAfter = fc.option(fc.nat({ max: 10 * 24 * HOUR }), { nil: undefined })
    fc.assert(
      fc.property(unitInterval, unitInterval, retryAfter, retryAfter, (r1, r2, after1, after2) => {
        const first = delayAfter(1, { statusCode: 503, ...(after1 === undefined ? {} : { retryAfter: after1 }) }, () => r1)!
        const second = delayAfter(2, { statusCode: 503, ...(after2 === undefined ? {} : { retryAfter: after2 }) }, () => r2)!
        expect(first).toBeLessThanOrEqual(10_000)
        expect(first + second).toBeLessThanOrEqual(60_000)
      }),
    )
  })

  it('keeps any Retry-After between the jittered schedule and 1.3 times the wait', () => {
    fc.assert(
      fc.property(retriableAttempt, unitInterval, fc.nat({ max: 10 * 24 * HOUR }), (attemptsMade, r, retryAfter) => {
        const scheduled = DELIVERY_SCHEDULE_SECONDS[attemptsMade]!
        const plain = delayAfter(attemptsMade, SERVER_ERROR, () => r)!
        const delay = delayAfter(attemptsMade, { statusCode: 500, retryAfter }, () => r)!
        expect(delay).toBeGreaterThanOrEqual(plain)
        expect(delay).toBeLessThanOrEqual(Math.round(1.3 * scheduled * 1000))
        if (retryAfter * 1000 >= plain && retryAfter <= 1.3 * scheduled) expect(delay).toBe(retryAfter * 1000)
      }),
    )
  })

  it('rejects an attempt count below one and a random source outside [0, 1)', () => {
    expect(() => delayAfter(0)).toThrow(RangeError)
    expect(() => delayAfter(1, SERVER_ERROR, () => 1)).toThrow(RangeError)
    expect(() => delayAfter(1, SERVER_ERROR, () => Number.NaN)).toThrow(RangeError)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-22T10:00:00Z')

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
  })

  it('reads an HTTP-date as seconds from now, rounding up', () => {
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:01:30 GMT', now)).toBe(90)
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:01:30 GMT', now + 500)).toBe(90)
  })

  it('treats a date in the past as no wait', () => {
    expect(parseRetryAfter('Sat, 21 Nov 2026 10:00:00 GMT', now)).toBe(0)
  })

  it('ignores absent and unreadable values', () => {
    expect(parseRetryAfter(null, now)).toBeNull()
    expect(parseRetryAfter(undefined, now)).toBeNull()
    for (const value of ['', 'soon', '-5', '1.5', '2026-11-22T10:01:30Z', 'Mon, 99 Foo 2026 GMT']) {
      expect(parseRetryAfter(value, now)).toBeNull()
    }
  })
})

describe('retryDueAt', () => {
  it("counts the wait from the failed attempt's start, and is never before the attempt ended", () => {
    // Failed fast: the table's wait after the start.
    expect(retryDueAt({ startedAt: 1_000, finishedAt: 1_200 }, 5_000)).toBe(6_000)
    // Took its whole 15 s: the 30 s wait still counts from its start…
    expect(retryDueAt({ startedAt: 1_000, finishedAt: 16_000 }, 30_000)).toBe(31_000)
    // …and a 5 s wait is over before the attempt is: due as it ends.
    expect(retryDueAt({ startedAt: 1_000, finishedAt: 16_000 }, 5_000)).toBe(16_000)
  })

  it("counts a Retry-After from the merchant's reply (elapsedMs into the attempt), still capped from the attempt's start", () => {
    const slowReply = { startedAt: 0, finishedAt: 3_000 }
    const asking = (retryAfter: number) =>
      nextRetryDelayMs({ attemptsMade: 2, failure: { statusCode: 503, retryAfter }, random: middle, elapsedMs: 3_000 })!
    // 33 s asked 3 s in: due 36 s after the start, not 33.
    expect(retryDueAt(slowReply, asking(33))).toBe(36_000)
    // 38 s asked: 41 s is past the cap, 1.3 × the 30 s wait from the start.
    expect(retryDueAt(slowReply, asking(38))).toBe(39_000)
    // Asking less than the table's wait changes nothing.
    expect(retryDueAt(slowReply, asking(1))).toBe(30_000)
  })

  it('keeps the contract: the second retry within a minute of the first attempt, however slow the attempts and whatever is asked', () => {
    // An attempt lasts up to 18 s: its DNS lookup (3 s limit of its own), then 15 s for the merchant.
    const span = fc.integer({ min: 0, max: 18_000 })
    const retryAfter = fc.option(fc.integer({ min: 0, max: 3600 }), { nil: undefined })
    fc.assert(
      fc.property(
        unitInterval,
        unitInterval,
        span,
        span,
        retryAfter,
        retryAfter,
        (a, b, firstSpan, secondSpan, firstAsked, secondAsked) => {
          const first = { startedAt: 0, finishedAt: firstSpan }
          const failure = (retryAfter: number | undefined) => ({ statusCode: 503, ...(retryAfter === undefined ? {} : { retryAfter }) })
          const firstRetryAt = retryDueAt(first, delayAfter(1, failure(firstAsked), () => a)!)
          expect(firstRetryAt - first.finishedAt).toBeLessThanOrEqual(10_000)
          const second = { startedAt: firstRetryAt, finishedAt: firstRetryAt + Math.min(secondSpan, 15_000) }
          const secondRetryAt = retryDueAt(second, delayAfter(2, failure(secondAsked), () => b)!)
          // The second attempt may itself take long: then it is retried as it ends, within the minute too.
          expect(secondRetryAt).toBeLessThanOrEqual(60_000)
        },
      ),
    )
  })
})
