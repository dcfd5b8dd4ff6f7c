/**
 * @module Per-merchant counters, one D1 row per merchant and minute (`merchant_stats`), kept by the projection: each
 * projection batch adds what its order object saw since the last one, in one upsert per minute it touches, inside
 * the batch's own transaction. No notification costs a D1 write of its own for them.
 */

/** Upper bounds (ms) of the attempt-duration histogram's buckets; the last one takes everything longer. */
export const LATENCY_BUCKETS_MS = [25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 15_000, 30_000, Number.POSITIVE_INFINITY] as const

export interface MinuteCounts {
  accepted: number
  duplicate: number
  rejected: number
  rejectedByReason: Record<string, number>
  delivered: number
  failed: number
  /** Attempts per latency bucket (`LATENCY_BUCKETS_MS`). */
  latency: number[]
}

/** Counts of nothing yet: where a minute's (or a window's) counting starts. */
export function zeroCounts(): MinuteCounts {
  return { accepted: 0, duplicate: 0, rejected: 0, rejectedByReason: {}, delivered: 0, failed: 0, latency: LATENCY_BUCKETS_MS.map(() => 0) }
}

/** A merchant's counts for the minutes one batch touched, keyed by minute (minutes since the Unix epoch, UTC). */
export type StatsDelta = Map<number, MinuteCounts>

export function minuteOf(iso: string): number {
  return Math.floor(Date.parse(iso) / 60_000)
}

function counts(delta: StatsDelta, at: string | number): MinuteCounts {
  const minute = typeof at === 'number' ? at : minuteOf(at)
  let entry = delta.get(minute)
  if (entry === undefined) {
    entry = zeroCounts()
    delta.set(minute, entry)
  }
  return entry
}

export function countNotification(
  delta: StatsDelta,
  receivedAt: string,
  verdict: 'accepted' | 'duplicate' | 'rejected',
  reason: string | null,
): void {
  const entry = counts(delta, receivedAt)
  entry[verdict] += 1
  if (verdict === 'rejected') {
    const key = reason ?? 'unknown'
    entry.rejectedByReason[key] = (entry.rejectedByReason[key] ?? 0) + 1
  }
}

export function countDeliveryOutcome(delta: StatsDelta, at: string, status: 'delivered' | 'failed'): void {
  counts(delta, at)[status] += 1
}

/** A failure counted in `minute` that no longer stands (its delivery was recovered): taken back from that minute. */
export function uncountFailure(delta: StatsDelta, minute: number): void {
  counts(delta, minute).failed -= 1
}

export function countAttempt(delta: StatsDelta, startedAt: string, latencyMs: number): void {
  const entry = counts(delta, startedAt)
  const bucket = LATENCY_BUCKETS_MS.findIndex((bound) => latencyMs <= bound)
  entry.latency[bucket] = (entry.latency[bucket] ?? 0) + 1
}

/** The per-bucket latency counters' columns, one per entry of LATENCY_BUCKETS_MS. */
export const LATENCY_COLUMNS = LATENCY_BUCKETS_MS.map((_, i) => `latency_${i}`)

/** Adds one minute's counts to the merchant's row; the rejection reasons merge key by key. */
export function statsStatement(db: D1Database, merchantId: string, minute: number, c: MinuteCounts): D1PreparedStatement {
  const columns = ['accepted', 'duplicate', 'rejected', 'delivered', 'failed', ...LATENCY_COLUMNS]
  return db
    .prepare(
      `INSERT INTO merchant_stats (merchant_id, minute, rejected_reasons, ${columns.join(', ')})
       VALUES (?, ?, ?, ${columns.map(() => '?').join(', ')})
       ON CONFLICT (merchant_id, minute) DO UPDATE SET
         ${columns.map((column) => `${column} = merchant_stats.${column} + excluded.${column}`).join(', ')},
         rejected_reasons = (
           SELECT json_group_object(key, total) FROM (
             SELECT key, sum(value) AS total FROM (
               SELECT key, value FROM json_each(merchant_stats.rejected_reasons)
               UNION ALL SELECT key, value FROM json_each(excluded.rejected_reasons)
             ) GROUP BY key
           )
         )`,
    )
    .bind(merchantId, minute, JSON.stringify(c.rejectedByReason), c.accepted, c.duplicate, c.rejected, c.delivered, c.failed, ...c.latency)
}

/** The merchant's counters summed over one bucket of minutes: its first minute, then the sums. */
export interface StatsBucket {
  first_minute: number
  accepted: number
  duplicate: number
  rejected: number
  delivered: number
  failed: number
  [latency: `latency_${number}`]: number
}

const SUMMED_COLUMNS = ['accepted', 'duplicate', 'rejected', 'delivered', 'failed', ...LATENCY_COLUMNS]

/**
 * The merchant's counters within [since, until) in minutes, summed in D1 per `stepMinutes` (buckets aligned to the
 * epoch), oldest first: a window of 90 days by the day is 91 rows, not 129,600. Without a step, one bucket.
 */
export async function readStatsBuckets(
  db: D1Database,
  merchantId: string,
  sinceMinute: number,
  untilMinute: number,
  stepMinutes: number | null,
): Promise<StatsBucket[]> {
  // Without a step, one longer than the window's every minute number: all of it in bucket 0. Integer division, so the
  // step is cast (a bound number may arrive as a real).
  const step = stepMinutes ?? untilMinute + 1
  const { results } = await db
    .prepare(
      `SELECT (minute / CAST(?4 AS INTEGER)) * CAST(?4 AS INTEGER) AS first_minute,
              ${SUMMED_COLUMNS.map((column) => `sum(${column}) AS ${column}`).join(', ')}
       FROM merchant_stats WHERE merchant_id = ?1 AND minute >= ?2 AND minute < ?3
       GROUP BY first_minute ORDER BY first_minute`,
    )
    .bind(merchantId, sinceMinute, untilMinute, step)
    .all<StatsBucket>()
  return results
}

/** Rejections within [since, until) in minutes, by reason, summed in D1. */
export async function readRejectedReasons(
  db: D1Database,
  merchantId: string,
  sinceMinute: number,
  untilMinute: number,
): Promise<Record<string, number>> {
  const { results } = await db
    .prepare(
      `SELECT reasons.key AS reason, sum(reasons.value) AS n FROM merchant_stats, json_each(merchant_stats.rejected_reasons) AS reasons
       WHERE merchant_stats.merchant_id = ? AND merchant_stats.minute >= ? AND merchant_stats.minute < ? GROUP BY reasons.key`,
    )
    .bind(merchantId, sinceMinute, untilMinute)
    .all<{ reason: string; n: number }>()
  return Object.fromEntries(results.map((row) => [row.reason, row.n]))
}

/** Deliveries created in [since, until) that are still pending. */
export async function countPendingDeliveries(db: D1Database, merchantId: string, since: string, until: string): Promise<number> {
  const row = await db
    .prepare(
      `SELECT count(*) AS n FROM deliveries WHERE merchant_id = ? AND status <> 'delivered' AND status = 'pending' AND created_at >= ? AND created_at < ?`,
    )
    .bind(merchantId, since, until)
    .first<{ n: number }>()
  return row?.n ?? 0
}

/** Rows older than the cut-off go (run daily): minutes are kept this long. */
export const STATS_RETENTION_DAYS = 90

/** The oldest minute kept at `now`: rows before it are pruned. */
export function statsCutoffMinute(now: number): number {
  return Math.floor(now / 60_000) - STATS_RETENTION_DAYS * 24 * 60
}

/**
 * Minutes of one merchant's counters a prune statement deletes at most (so at most that many rows: one per minute): a
 * day, which is what a daily run finds past the cut-off; a backlog takes a statement per day of it.
 */
export const PRUNE_MINUTES_PER_STATEMENT = 24 * 60

/**
 * Deletes the merchant's oldest rows before `cutoff`: those within PRUNE_MINUTES_PER_STATEMENT minutes of its oldest
 * row. A range of the primary key (no scan of other merchants' rows), whatever the table holds.
 */
export function pruneStatsStatement(db: D1Database, merchantId: string, cutoff: number): D1PreparedStatement {
  return db
    .prepare(
      `DELETE FROM merchant_stats WHERE merchant_id = ?1
         AND minute < min(?2, (SELECT min(minute) FROM merchant_stats WHERE merchant_id = ?1) + ?3)`,
    )
    .bind(merchantId, cutoff, PRUNE_MINUTES_PER_STATEMENT)
}

/** Which of these merchants still have rows before `cutoff` (one seek on the primary key each). */
export function statsToPruneStatement(db: D1Database, merchantIds: readonly string[], cutoff: number): D1PreparedStatement {
  return db
    .prepare(
      `SELECT value AS merchant_id FROM json_each(?1)
       WHERE EXISTS (SELECT 1 FROM merchant_stats WHERE merchant_id = value AND minute < ?2)`,
    )
    .bind(JSON.stringify(merchantIds), cutoff)
}
