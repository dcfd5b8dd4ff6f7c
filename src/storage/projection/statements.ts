/**
 * @module The projection's statements: idempotent, version-guarded upserts of orders, deliveries and notifications,
 * a table's rows of a batch in one statement. The rows travel as one JSON parameter read with `json_each` (D1 binds
 * at most 100 parameters a statement): a batch of a hundred new payments is three statements, not three hundred,
 * each of which D1 would parse, bind and answer on its own.
 */
import type { DeliveryProjection, NotificationProjection, OrderProjection } from './records'

type Column<T> = readonly [name: string, value: (row: T) => string | number | null]

interface UpsertSpec<T> {
  table: string
  columns: ReadonlyArray<Column<T>>
  /** What a row already there gets: `ON CONFLICT …`, with its version guard. */
  onConflict: string
}

/** The JSON a statement carries stays well below D1's 2 MB limit on one value (a row here is a few hundred bytes). */
const MAX_JSON_CHARS = 512 * 1024

const ORDERS: UpsertSpec<OrderProjection> = {
  table: 'orders',
  columns: [
    ['merchant_id', (o) => o.merchantId],
    ['provider', (o) => o.provider],
    ['out_trade_no', (o) => o.outTradeNo],
    ['status', (o) => o.status],
    ['expected_amount', (o) => o.expectedAmount],
    ['amount', (o) => o.amount],
    ['currency', (o) => o.currency],
    ['transaction_id', (o) => o.transactionId],
    ['paid_at', (o) => o.paidAt],
    ['refunded_amount', (o) => o.refundedAmount],
    ['version', (o) => o.version],
    ['updated_at', (o) => o.updatedAt],
    ['accepted_notifications', (o) => o.acceptedNotifications],
  ],
  onConflict: `ON CONFLICT (merchant_id, provider, out_trade_no) DO UPDATE SET
    status = excluded.status, expected_amount = excluded.expected_amount, amount = excluded.amount,
    currency = excluded.currency, transaction_id = excluded.transaction_id, paid_at = excluded.paid_at,
    refunded_amount = excluded.refunded_amount, version = excluded.version, updated_at = excluded.updated_at,
    accepted_notifications = max(orders.accepted_notifications, excluded.accepted_notifications)
  WHERE excluded.version > orders.version OR excluded.accepted_notifications > orders.accepted_notifications`,
}

const NOTIFICATIONS: UpsertSpec<NotificationProjection> = {
  table: 'notifications',
  columns: [
    ['id', (n) => n.id],
    ['merchant_id', (n) => n.merchantId],
    ['channel', (n) => n.channel],
    ['out_trade_no', (n) => n.outTradeNo],
    ['provider_notification_id', (n) => n.providerNotificationId],
    ['received_at', (n) => n.receivedAt],
    ['verdict', (n) => n.verdict],
    ['reason', (n) => n.reason],
    ['source', (n) => n.source],
    ['notification_type', (n) => n.notificationType ?? null],
    ['subject_key', (n) => n.subjectKey ?? null],
    // 1 or NULL (migration 0012).
    ['refused_before_object', (n) => (n.refusedBeforeObject === true ? 1 : null)],
  ],
  onConflict: 'ON CONFLICT (id) DO NOTHING',
}

/** A delivery as written: its projection, and the minute whose stats counter holds its failure while it is failed. */
export type DeliveryWrite = DeliveryProjection & { failedMinute: number | null }

const DELIVERIES: UpsertSpec<DeliveryWrite> = {
  table: 'deliveries',
  columns: [
    ['id', (d) => d.id],
    ['merchant_id', (d) => d.merchantId],
    ['provider', (d) => d.provider],
    ['out_trade_no', (d) => d.outTradeNo],
    ['subject_key', (d) => d.subjectKey],
    ['event_id', (d) => d.eventId],
    ['type', (d) => d.type],
    ['status', (d) => d.status],
    ['reason', (d) => d.reason],
    ['attempts', (d) => d.attempts],
    ['next_attempt_at', (d) => d.nextAttemptAt],
    ['last_status_code', (d) => d.lastStatusCode],
    ['created_at', (d) => d.createdAt],
    ['updated_at', (d) => d.updatedAt],
    ['version', (d) => d.version],
    // Migration 0017.
    ['failed_minute', (d) => d.failedMinute],
  ],
  onConflict: `ON CONFLICT (id) DO UPDATE SET
    status = excluded.status, reason = excluded.reason, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
    last_status_code = excluded.last_status_code, updated_at = excluded.updated_at, version = excluded.version,
    failed_minute = excluded.failed_minute
  WHERE excluded.version > deliveries.version`,
}

export const orderStatements = (db: D1Database, orders: readonly OrderProjection[]): D1PreparedStatement[] =>
  upsertStatements(db, ORDERS, orders)

export const notificationStatements = (db: D1Database, notifications: readonly NotificationProjection[]): D1PreparedStatement[] =>
  upsertStatements(db, NOTIFICATIONS, notifications)

export const deliveryStatements = (db: D1Database, deliveries: readonly DeliveryWrite[]): D1PreparedStatement[] =>
  upsertStatements(db, DELIVERIES, deliveries)

/**
 * The rows as few statements as the size limit allows (one, for any batch the queue hands over). Rows with one key
 * must not repeat: the caller merges them first.
 */
function upsertStatements<T>(db: D1Database, spec: UpsertSpec<T>, rows: readonly T[]): D1PreparedStatement[] {
  if (rows.length === 0) return []
  const names = spec.columns.map(([name]) => name).join(', ')
  // `WHERE true`: SQLite's grammar needs it between an INSERT's SELECT and its ON CONFLICT.
  const sql = `INSERT INTO ${spec.table} (${names})
    SELECT ${spec.columns.map((_, i) => `value ->> ${i}`).join(', ')} FROM json_each(?1) WHERE true
    ${spec.onConflict}`
  const statements: D1PreparedStatement[] = []
  let chunk: string[] = []
  let chars = 0
  for (const row of rows) {
    const json = JSON.stringify(spec.columns.map(([, value]) => value(row)))
    if (chunk.length > 0 && chars + json.length > MAX_JSON_CHARS) {
      statements.push(db.prepare(sql).bind(`[${chunk.join(',')}]`))
      chunk = []
      chars = 0
    }
    chunk.push(json)
    chars += json.length + 1
  }
  statements.push(db.prepare(sql).bind(`[${chunk.join(',')}]`))
  return statements
}
