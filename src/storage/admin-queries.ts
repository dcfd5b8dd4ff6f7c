/** @module The D1 reads behind the admin listings across orders: notifications, deliveries, and which object a delivery belongs to. */
import { LATENCY_COLUMNS } from './stats'
import type { StoredObjectRow } from './stored-objects'

export interface NotificationListRow {
  id: string
  channel: string
  /** The latest one's time, for a counted row. */
  received_at: string
  /**
   * The row's place in the list (the order, `since` / `until`, the cursor): `received_at`, but for a counted row the
   * time it was made, which stays while refusals join it. Not shown.
   */
  listed_at: string
  verdict: string
  reason: string | null
  out_trade_no: string | null
  source: string
  /** How many notifications the row stands for: 1, or for a counted row of refusals how many it counts. */
  count: number
  /** A counted row's earliest notification; null for single rows. */
  first_received_at: string | null
  /** A provider notification's type and subject object; null for an order's notifications. */
  notification_type: string | null
  subject_key: string | null
}

export interface NotificationFilter {
  outTradeNo: string | null
  verdict: string | null
  reason: string | null
  /** Inclusive lower and exclusive upper bound on `received_at`, ISO-8601. */
  since: string | null
  until: string | null
  /** The `received_at` and `id` of the previous page's last row. */
  after: [receivedAt: string, id: string] | null
  limit: number
}

/**
 * A WHERE clause of only the conditions asked for, and their values in order: a term whose value is null or undefined
 * is left out. (`?x IS NULL OR …` terms would keep SQLite from bounding an index range by the ones that are given.)
 */
function conditions(terms: readonly (readonly [sql: string, ...values: unknown[]])[]): { sql: string; values: unknown[] } {
  const given = terms.filter(([, first]) => first !== null && first !== undefined)
  return { sql: given.map(([sql]) => sql).join(' AND '), values: given.flatMap(([, ...values]) => values) }
}

/** A row's shown time and its place in the list (the stored `received_at`, which a counted row keeps). */
const RECEIVED_AT = 'coalesce(last_received_at, received_at) AS received_at, received_at AS listed_at'

/** The merchant's audit trail, newest first, filtered; `limit` rows at most. */
export async function listNotificationRows(db: D1Database, merchantId: string, filter: NotificationFilter): Promise<NotificationListRow[]> {
  const where = conditions([
    ['merchant_id = ?', merchantId],
    ['out_trade_no = ?', filter.outTradeNo],
    ['verdict = ?', filter.verdict],
    ['reason = ?', filter.reason],
    ['received_at >= ?', filter.since],
    ['received_at < ?', filter.until],
    ['(received_at, id) < (?, ?)', ...(filter.after ?? [null])],
  ])
  const { results } = await db
    .prepare(
      `SELECT id, channel, ${RECEIVED_AT}, verdict, reason, out_trade_no, source, count, first_received_at, notification_type, subject_key
       FROM notifications WHERE ${where.sql} ORDER BY listed_at DESC, id DESC LIMIT ?`,
    )
    .bind(...where.values, filter.limit)
    .all<NotificationListRow>()
  return results
}

export interface MerchantListRow {
  id: string
  /** The stored JSON (secrets sealed): only public fields are read from it. */
  config: string
  version: number
  created_at: string
  updated_at: string
}

/** Merchants newest first, strictly after `after` (the `created_at` and `id` of the previous page's last row). */
export async function listMerchantRows(
  db: D1Database,
  options: { after: [createdAt: string, id: string] | null; limit: number },
): Promise<MerchantListRow[]> {
  const [afterCreated, afterId] = options.after ?? [null, null]
  const { results } = await db
    .prepare(
      `SELECT id, config, version, created_at, updated_at FROM merchants
       WHERE (?1 IS NULL OR created_at < ?1 OR (created_at = ?1 AND id < ?2))
       ORDER BY created_at DESC, id DESC LIMIT ?3`,
    )
    .bind(afterCreated, afterId, options.limit)
    .all<MerchantListRow>()
  return results
}

export interface DeliveryListRow {
  id: string
  event_id: string
  type: string
  /** Null for a provider notification's delivery (it belongs to a subject, not an order). */
  out_trade_no: string | null
  provider: string
  status: string
  reason: string | null
  attempts: number
  next_attempt_at: string | null
  last_status_code: number | null
  created_at: string
}

export interface DeliveryFilter {
  status: string | null
  type?: string | null
  outTradeNo?: string | null
  /** Inclusive lower and exclusive upper bound on `created_at`, ISO-8601. */
  since?: string | null
  until?: string | null
  /** The `created_at` and `id` of the previous page's last row. */
  after: [createdAt: string, id: string] | null
  limit: number
}

/** The merchant's deliveries, newest first, filtered; `limit` rows at most. */
export async function listDeliveryRows(db: D1Database, merchantId: string, filter: DeliveryFilter): Promise<DeliveryListRow[]> {
  const where = conditions([
    ['merchant_id = ?', merchantId],
    // The literal `status <> 'delivered'` lets SQLite use the partial index deliveries_unsettled.
    [filter.status === 'delivered' ? 'status = ?' : `status <> 'delivered' AND status = ?`, filter.status],
    ['type = ?', filter.type],
    ['out_trade_no = ?', filter.outTradeNo],
    ['created_at >= ?', filter.since],
    ['created_at < ?', filter.until],
    ['(created_at, id) < (?, ?)', ...(filter.after ?? [null])],
  ])
  const { results } = await db
    .prepare(
      `SELECT id, event_id, type, out_trade_no, provider, status, reason, attempts, next_attempt_at, last_status_code, created_at
       FROM deliveries WHERE ${where.sql} ORDER BY created_at DESC, id DESC LIMIT ?`,
    )
    .bind(...where.values, filter.limit)
    .all<DeliveryListRow>()
  return results
}

/** Which object a delivery belongs to, and whose: an order (`out_trade_no`) or a subject (`subject_key`). */
export interface DeliveryOwnerRow extends StoredObjectRow {
  merchant_id: string
}

/** The object a delivery belongs to, or null when D1 has no such delivery. */
export function deliveryOwner(db: D1Database, deliveryId: string): Promise<DeliveryOwnerRow | null> {
  return db
    .prepare('SELECT merchant_id, provider, out_trade_no, subject_key FROM deliveries WHERE id = ?')
    .bind(deliveryId)
    .first<DeliveryOwnerRow>()
}

/** One audit entry of the merchant's, or null. */
export function notificationRow(db: D1Database, merchantId: string, notificationId: string): Promise<NotificationListRow | null> {
  return db
    .prepare(
      `SELECT id, channel, ${RECEIVED_AT}, verdict, reason, out_trade_no, source, count, first_received_at, notification_type, subject_key
       FROM notifications WHERE merchant_id = ? AND id = ?`,
    )
    .bind(merchantId, notificationId)
    .first<NotificationListRow>()
}

/** A failed delivery as a recovery walks them: its place in the walk (`created_at`, `id`) and the object holding it. */
export interface FailedDeliveryRow extends StoredObjectRow {
  id: string
  created_at: string
}

/** Where a recovery's walk stands: the `created_at` and `id` of the last failed delivery a page took. */
export type FailedDeliveryCursor = readonly [createdAt: string, id: string]

/**
 * The merchant's failed deliveries created within [since, until), oldest first, strictly after `after`: a recovery
 * walks them page by page along deliveries_unsettled, reading `limit` rows at most however many failed in the window
 * (no DISTINCT or ORDER BY of its own to sort: the caller takes each row's object once per page).
 */
export async function failedDeliveriesInWindow(
  db: D1Database,
  merchantId: string,
  window: { since: string; until: string; after: FailedDeliveryCursor | null; limit: number },
): Promise<FailedDeliveryRow[]> {
  // One lower bound, the later of the two: given `created_at >= ?` beside the cursor, SQLite starts the range at
  // `since` and reads every row up to the cursor. (The literal `status <> 'delivered'` selects the partial index.)
  const { after } = window
  const [from, ...lower] =
    after !== null && after[0] >= window.since ? ['(created_at, id) > (?, ?)', ...after] : ['created_at >= ?', window.since]
  const { results } = await db
    .prepare(
      `SELECT id, created_at, provider, out_trade_no, subject_key FROM deliveries
       WHERE merchant_id = ? AND status <> 'delivered' AND status = 'failed' AND ${from} AND created_at < ?
       ORDER BY created_at, id LIMIT ?`,
    )
    .bind(merchantId, ...lower, window.until, window.limit)
    .all<FailedDeliveryRow>()
  return results
}

/** Deliveries and attempts counted for each merchant in the list since `sinceMinute` (minutes since the epoch). */
export interface DeliveryCountsRow {
  merchant_id: string
  delivered: number
  failed: number
  attempts: number
}

/** Every attempt lands in exactly one latency bucket, so their sum is the attempt count. */
const ATTEMPTS_SUM = LATENCY_COLUMNS.join(' + ')

export async function deliveryCountsSince(
  db: D1Database,
  merchantIds: readonly string[],
  sinceMinute: number,
): Promise<DeliveryCountsRow[]> {
  if (merchantIds.length === 0) return []
  const { results } = await db
    .prepare(
      `SELECT merchant_id, sum(delivered) AS delivered, sum(failed) AS failed, sum(${ATTEMPTS_SUM}) AS attempts FROM merchant_stats
       WHERE merchant_id IN (SELECT value FROM json_each(?1)) AND minute >= ?2 GROUP BY merchant_id`,
    )
    .bind(JSON.stringify(merchantIds), sinceMinute)
    .all<DeliveryCountsRow>()
  return results
}
