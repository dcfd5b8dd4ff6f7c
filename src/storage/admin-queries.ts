/** @module The D1 reads behind the admin listings across orders: notifications, deliveries, and which object a delivery belongs to. */
import type { ProviderName } from '../providers/core/types'

export interface NotificationListRow {
  id: string
  channel: string
  /** The latest one's time, for a counted row. */
  received_at: string
  verdict: string
  reason: string | null
  out_trade_no: string | null
  source: string
  /** How many notifications the row stands for: 1, or more for a counted row of refusals. */
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

export interface DeliveryListRow {
  id: string
  event_id: string
  type: string
  out_trade_no: string | null
  provider: string
  status: string
  attempts: number
  next_attempt_at: string | null
  last_status_code: number | null
  created_at: string
}

/** The merchant's audit trail, newest first, filtered; `limit` rows at most. */
export async function listNotificationRows(db: D1Database, merchantId: string, filter: NotificationFilter): Promise<NotificationListRow[]> {
  const [afterAt, afterId] = filter.after ?? [null, null]
  const { results } = await db
    .prepare(
      `SELECT id, channel, received_at, verdict, reason, out_trade_no, source, count, first_received_at, notification_type, subject_key
       FROM notifications
       WHERE merchant_id = ?1 AND (?2 IS NULL OR out_trade_no = ?2) AND (?3 IS NULL OR verdict = ?3)
         AND (?4 IS NULL OR reason = ?4) AND (?5 IS NULL OR received_at >= ?5) AND (?6 IS NULL OR received_at < ?6)
         AND (?7 IS NULL OR received_at < ?7 OR (received_at = ?7 AND id < ?8))
       ORDER BY received_at DESC, id DESC LIMIT ?9`,
    )
    .bind(merchantId, filter.outTradeNo, filter.verdict, filter.reason, filter.since, filter.until, afterAt, afterId, filter.limit)
    .all<NotificationListRow>()
  return results
}

/**
 * The merchant's deliveries, newest first, optionally of one status and created within [since, until),
 * strictly after `after` (the `created_at` and `id` of the last row of the previous page).
 */
export async function listDeliveryRows(
  db: D1Database,
  merchantId: string,
  options: {
    status: string | null
    after: [createdAt: string, id: string] | null
    since?: string | null
    until?: string | null
    limit: number
  },
): Promise<DeliveryListRow[]> {
  const [afterCreated, afterId] = options.after ?? [null, null]
  const { results } = await db
    .prepare(
      `SELECT id, event_id, type, out_trade_no, provider, status, attempts, next_attempt_at, last_status_code, created_at
       FROM deliveries
       WHERE merchant_id = ?1 AND (?2 IS NULL OR status = ?2)
         AND (?3 IS NULL OR created_at < ?3 OR (created_at = ?3 AND id < ?4))
         AND (?6 IS NULL OR created_at >= ?6) AND (?7 IS NULL OR created_at < ?7)
       ORDER BY created_at DESC, id DESC LIMIT ?5`,
    )
    .bind(merchantId, options.status, afterCreated, afterId, options.limit, options.since ?? null, options.until ?? null)
    .all<DeliveryListRow>()
  return results
}

/** Which object a delivery belongs to: an order (`out_trade_no`) or a subject (`subject_key`). */
export interface DeliveryOwnerRow {
  merchant_id: string
  provider: ProviderName
  out_trade_no: string | null
  subject_key: string | null
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
      `SELECT id, channel, received_at, verdict, reason, out_trade_no, source, count, first_received_at, notification_type, subject_key
       FROM notifications WHERE merchant_id = ? AND id = ?`,
    )
    .bind(merchantId, notificationId)
    .first<NotificationListRow>()
}
