/**
 * @module Refused notifications in D1: a notification refused before it reached an order object never has an object
 * of its own, so the admin API's trail of it is these rows, written by the projection consumer from the refusal
 * records the Worker queues. Each refusal is listed as a row of its own, up to `LISTED_REFUSALS_PER_HOUR` per
 * merchant and UTC hour (the contract's floor); beyond that the hour's refusals are counted, one row per merchant,
 * channel, reason and 10 minutes, so a flood of forgeries neither fills D1 nor pushes genuine entries out of view.
 */
import { sha256Hex } from '../crypto/primitives'
import { isoNow, newId } from '../lib/ids'
import type { ChannelName } from '../providers/core/types'
import type { NotificationProjection } from './projection/records'
import { keepBodyStatement, pruneBodiesStatements, type RefusedBody } from './rejected-bodies'

/** Refusals listed one by one per merchant and UTC hour before the rest of that hour is counted. */
export const LISTED_REFUSALS_PER_HOUR = 1000
const HOUR_MS = 3600_000
/** Counted refusals are counted per merchant, channel and reason in windows this long. */
const REFUSAL_WINDOW_MS = 10 * 60_000
/** Refusal rows, listed or counted, are kept this long; the order objects keep their own trail. */
const REFUSAL_RETENTION_MS = 30 * 24 * 3600_000
/** The ids of counted refusals are kept this long: a queue redelivers within minutes (10 retries, 5 minutes apart at most). */
const COUNTED_IDS_RETENTION_MS = 24 * 3600_000

/**
 * The condition that makes a `notifications` row a refusal before any object (listed or counted), for SQL: its mark
 * (migration 0012), since a listed refusal after verification names its order as an order's own entries do.
 */
export const REFUSAL_ROW_SQL = 'refused_before_object = 1'

export interface Refusal {
  /** `ntf_rej_…`, made when the Worker queued it; absent from records queued before refusals were listed one by one. */
  id?: string
  merchantId: string
  channel: ChannelName
  reason: string
  /** Epoch ms. */
  receivedAt: number
  /**
   * The order an authentic notification names, when it was refused after its signature was verified: its listed row
   * keeps it, so the order's trail shows it (a counted row names none). Absent for anything refused before that.
   */
  outTradeNo?: string
  /** Its redacted body, for a `keepRejectedBodies` merchant: kept with its row, or as its counted row's sample. */
  kept?: RefusedBody
}

/** A refusal's own id, fixed when it is queued, so a record delivered twice is listed once. */
export function newRefusalId(): string {
  return newId('ntf_rej')
}

/** The counted row a refusal past the hour's listed ones belongs to: one per merchant, channel, reason and window. */
export async function refusalRowId(refusal: Refusal): Promise<string> {
  const window = Math.floor(refusal.receivedAt / REFUSAL_WINDOW_MS)
  return `ntf_rej_${(await sha256Hex(JSON.stringify([refusal.merchantId, refusal.channel, refusal.reason, window]))).slice(0, 32)}`
}

const hourKey = (r: Refusal): string => JSON.stringify([r.merchantId, Math.floor(r.receivedAt / HOUR_MS)])

export interface RefusalWrite {
  /** The refusals listed one by one: `notifications` rows, which the caller writes with the batch's other ones. */
  listed: NotificationProjection[]
  statements: D1PreparedStatement[]
  /** The refusals the shard did not hold yet, listed or counted now: what the stats count. */
  fresh: Refusal[]
}

/**
 * What records a batch's refusals: a row each while the merchant's hour has fewer than `LISTED_REFUSALS_PER_HOUR`
 * listed (`listed`, written with the batch's other notification rows in one statement), else one upsert per counted
 * row the batch touches; and old rows expire. What the
 * shard already holds (listed rows, counted ids) is read first, so a batch applied again writes nothing; this relies
 * on the projection consumer writing one batch at a time (`max_concurrency = 1`).
 */
export async function refusalStatements(db: D1Database, refusals: readonly Refusal[]): Promise<RefusalWrite> {
  if (refusals.length === 0) return { listed: [], statements: [], fresh: [] }
  const byId = new Map<string, Refusal>()
  const withoutId: Refusal[] = []
  for (const refusal of refusals) {
    if (refusal.id === undefined) withoutId.push(refusal)
    else byId.set(refusal.id, refusal)
  }
  const [stored, listed] = await Promise.all([storedRefusalIds(db, [...byId.values()]), listedPerHour(db, refusals)])
  const fresh = [...withoutId, ...[...byId.values()].filter((r) => !stored.has(r.id!))].sort(
    (a, b) => a.receivedAt - b.receivedAt || (a.id ?? '').localeCompare(b.id ?? ''),
  )
  const listedRows: NotificationProjection[] = []
  const statements: D1PreparedStatement[] = []
  const counted = new Map<string, Refusal[]>()
  for (const refusal of fresh) {
    const hour = hourKey(refusal)
    const listedSoFar = listed.get(hour) ?? 0
    // A record without an id cannot be told from its redelivery: it is counted, as before ids existed.
    if (refusal.id !== undefined && listedSoFar < LISTED_REFUSALS_PER_HOUR) {
      listed.set(hour, listedSoFar + 1)
      listedRows.push(listedRow(refusal, refusal.id))
      if (refusal.kept !== undefined)
        statements.push(keepBodyStatement(db, refusal.id, refusal.merchantId, isoNow(refusal.receivedAt), refusal.kept))
      continue
    }
    const rowId = await refusalRowId(refusal)
    counted.set(rowId, [...(counted.get(rowId) ?? []), refusal])
  }
  for (const [rowId, members] of counted) statements.push(...countedStatements(db, rowId, members))
  const now = Date.now()
  for (const merchantId of new Set(fresh.filter((r) => r.kept !== undefined).map((r) => r.merchantId)))
    statements.push(...pruneBodiesStatements(db, merchantId, now))
  for (const [merchantId, at] of new Map(refusals.map((r) => [r.merchantId, r.receivedAt]))) {
    statements.push(
      db
        .prepare(`DELETE FROM notifications WHERE merchant_id = ? AND ${REFUSAL_ROW_SQL} AND received_at < ?`)
        .bind(merchantId, isoNow(at - REFUSAL_RETENTION_MS)),
      db
        .prepare('DELETE FROM counted_refusals WHERE merchant_id = ? AND received_at < ?')
        .bind(merchantId, isoNow(at - COUNTED_IDS_RETENTION_MS)),
    )
  }
  return { listed: listedRows, statements, fresh }
}

/** A refusal's row of its own in `notifications`, marked as one before any object. */
function listedRow(refusal: Refusal, id: string): NotificationProjection {
  return {
    id,
    merchantId: refusal.merchantId,
    channel: refusal.channel,
    outTradeNo: refusal.outTradeNo ?? null,
    providerNotificationId: null,
    receivedAt: isoNow(refusal.receivedAt),
    verdict: 'rejected',
    reason: refusal.reason,
    source: 'notify',
    refusedBeforeObject: true,
  }
}

/**
 * Adds refusals (all of one merchant, channel, reason and window) to their counted row, remembers their ids, and
 * keeps the earliest body among them as the row's sample (when the row has none yet: the window's first). The row's
 * `received_at`, its place in the list, is set when it is made and never moves (migration 0011); the latest time is
 * `last_received_at` (a row an older version moved has none: its `received_at` was the latest).
 */
function countedStatements(db: D1Database, rowId: string, members: Refusal[]): D1PreparedStatement[] {
  const { merchantId, channel, reason } = members[0]!
  const times = members.map((r) => r.receivedAt)
  const statements = [
    db
      .prepare(
        `INSERT INTO notifications (id, merchant_id, channel, out_trade_no, provider_notification_id, received_at, verdict, reason, source,
           count, first_received_at, last_received_at, refused_before_object)
         VALUES (?1, ?2, ?3, NULL, NULL, ?4, 'rejected', ?5, 'notify', ?6, ?4, ?7, 1)
         ON CONFLICT (id) DO UPDATE SET count = notifications.count + excluded.count,
           last_received_at = max(coalesce(notifications.last_received_at, notifications.received_at), excluded.last_received_at),
           first_received_at = min(notifications.first_received_at, excluded.first_received_at)`,
      )
      .bind(rowId, merchantId, channel, isoNow(Math.min(...times)), reason, members.length, isoNow(Math.max(...times))),
  ]
  const ids = members.flatMap((r) => (r.id === undefined ? [] : [[r.id, isoNow(r.receivedAt)]]))
  if (ids.length > 0)
    statements.push(
      db
        .prepare(
          `INSERT INTO counted_refusals (merchant_id, received_at, id) SELECT ?1, j.value ->> 1, j.value ->> 0 FROM json_each(?2) AS j
           WHERE true ON CONFLICT DO NOTHING`,
        )
        .bind(merchantId, JSON.stringify(ids)),
    )
  const sample = members.filter((r) => r.kept !== undefined).sort((a, b) => a.receivedAt - b.receivedAt)[0]
  if (sample?.kept !== undefined) statements.push(keepBodyStatement(db, rowId, merchantId, isoNow(sample.receivedAt), sample.kept))
  return statements
}

/** Which of these refusals the shard already holds, listed or counted. */
async function storedRefusalIds(db: D1Database, refusals: Refusal[]): Promise<Set<string>> {
  if (refusals.length === 0) return new Set()
  const { results } = await db
    .prepare(
      `SELECT n.id FROM json_each(?1) AS j JOIN notifications AS n ON n.id = j.value ->> 0
       UNION ALL
       SELECT c.id FROM json_each(?1) AS j
         JOIN counted_refusals AS c ON c.merchant_id = j.value ->> 1 AND c.received_at = j.value ->> 2 AND c.id = j.value ->> 0`,
    )
    .bind(JSON.stringify(refusals.map((r) => [r.id, r.merchantId, isoNow(r.receivedAt)])))
    .all<{ id: string }>()
  return new Set(results.map((r) => r.id))
}

/** How many refusals each merchant's hour in the batch already lists (its rows with no `first_received_at`). */
async function listedPerHour(db: D1Database, refusals: readonly Refusal[]): Promise<Map<string, number>> {
  const hours = new Map(refusals.map((r) => [hourKey(r), [r.merchantId, Math.floor(r.receivedAt / HOUR_MS)] as const]))
  const { results } = await db
    .prepare(
      `SELECT j.value ->> 0 AS merchant_id, j.value ->> 1 AS hour, (
         SELECT count(*) FROM notifications
         WHERE merchant_id = j.value ->> 0 AND ${REFUSAL_ROW_SQL} AND first_received_at IS NULL
           AND received_at >= j.value ->> 2 AND received_at < j.value ->> 3
       ) AS listed FROM json_each(?) AS j`,
    )
    .bind(
      JSON.stringify(
        [...hours.values()].map(([merchantId, hour]) => [merchantId, hour, isoNow(hour * HOUR_MS), isoNow((hour + 1) * HOUR_MS)]),
      ),
    )
    .all<{ merchant_id: string; hour: number; listed: number }>()
  return new Map(results.map((r) => [JSON.stringify([r.merchant_id, r.hour]), r.listed]))
}
