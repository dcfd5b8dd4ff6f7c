/**
 * @module A merchant's stats over a window: the per-minute counters the projection keeps (`storage/stats.ts`),
 * summed in D1 (refusals before any order included), and the deliveries still pending; optionally the same per
 * minute, hour or day for a chart. Latency percentiles come from the duration histogram.
 */
import { isoNow } from '../lib/ids'
import {
  countPendingDeliveries,
  LATENCY_BUCKETS_MS,
  readRejectedReasons,
  readStatsBuckets,
  zeroCounts,
  type MinuteCounts,
  type StatsBucket,
} from '../storage/stats'

export type StatsInterval = 'minute' | 'hour' | 'day'

const MINUTE_MS = 60_000
const INTERVAL_MS: Record<StatsInterval, number> = { minute: MINUTE_MS, hour: 3_600_000, day: 86_400_000 }
/** A series longer than this is refused: a chart has no use for more points. */
export const MAX_SERIES_POINTS = 1500

/** A window's totals: the same counters as one minute's, summed. */
type Totals = MinuteCounts

function addBucket(totals: Totals, row: StatsBucket): void {
  totals.accepted += row.accepted
  totals.duplicate += row.duplicate
  totals.rejected += row.rejected
  totals.delivered += row.delivered
  totals.failed += row.failed
  LATENCY_BUCKETS_MS.forEach((_, i) => {
    totals.latency[i]! += row[`latency_${i}`] ?? 0
  })
}

/** The upper bound of the bucket holding the `p`-quantile of the attempts; null without attempts. */
function percentile(histogram: readonly number[], p: number): number | null {
  const total = histogram.reduce((sum, n) => sum + n, 0)
  if (total === 0) return null
  const rank = Math.ceil(p * total)
  let seen = 0
  for (const [i, n] of histogram.entries()) {
    seen += n
    if (seen >= rank) return Number.isFinite(LATENCY_BUCKETS_MS[i]!) ? LATENCY_BUCKETS_MS[i]! : LATENCY_BUCKETS_MS[i - 1]!
  }
  return null
}

function deliveryCounts(t: Totals) {
  const decided = t.delivered + t.failed
  return {
    delivered: t.delivered,
    failed: t.failed,
    success_rate: decided === 0 ? null : t.delivered / decided,
    latency_ms: { p50: percentile(t.latency, 0.5), p95: percentile(t.latency, 0.95) },
  }
}

export interface StatsWindow {
  since: string
  until: string
  interval?: StatsInterval
}

/**
 * Counts whole minutes, the counters' grain: `since` is rounded down and `until` up to the minute, every count (the
 * pending deliveries' too) is over that window, and the reply gives it. Throws `RangeError` when the
 * window and interval would make more than `MAX_SERIES_POINTS` points.
 */
export async function merchantStats(db: D1Database, merchantId: string, window: StatsWindow) {
  const sinceMs = Math.floor(Date.parse(window.since) / MINUTE_MS) * MINUTE_MS
  const untilMs = Math.ceil(Date.parse(window.until) / MINUTE_MS) * MINUTE_MS
  const [since, until] = [isoNow(sinceMs), isoNow(untilMs)]
  const step = window.interval === undefined ? null : INTERVAL_MS[window.interval]
  const firstBucket = step === null ? 0 : Math.floor(sinceMs / step) * step
  if (step !== null && (untilMs - firstBucket) / step > MAX_SERIES_POINTS) throw new RangeError(`more than ${MAX_SERIES_POINTS} points`)
  const [rows, reasons, pending] = await Promise.all([
    readStatsBuckets(db, merchantId, sinceMs / MINUTE_MS, untilMs / MINUTE_MS, step === null ? null : step / MINUTE_MS),
    readRejectedReasons(db, merchantId, sinceMs / MINUTE_MS, untilMs / MINUTE_MS),
    countPendingDeliveries(db, merchantId, since, until),
  ])
  const totals = zeroCounts()
  totals.rejectedByReason = reasons
  const buckets = new Map<number, Totals>()
  for (const row of rows) {
    addBucket(totals, row)
    if (step === null) continue
    const bucket = zeroCounts()
    addBucket(bucket, row)
    buckets.set(row.first_minute * MINUTE_MS, bucket)
  }
  const series =
    step === null
      ? undefined
      : Array.from({ length: Math.max(0, Math.ceil((untilMs - firstBucket) / step)) }, (_, i) => {
          const start = firstBucket + i * step
          const t = buckets.get(start) ?? zeroCounts()
          return {
            start: new Date(start).toISOString(),
            notifications: { accepted: t.accepted, duplicate: t.duplicate, rejected: t.rejected },
            deliveries: deliveryCounts(t),
          }
        })
  return {
    notifications: {
      accepted: totals.accepted,
      duplicate: totals.duplicate,
      rejected: totals.rejected,
      rejected_by_reason: totals.rejectedByReason,
    },
    deliveries: { ...deliveryCounts(totals), pending },
    since,
    until,
    ...(window.interval === undefined ? {} : { interval: window.interval, series }),
  }
}
