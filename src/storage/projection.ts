/**
 * @module The D1 projection: what an order (or subject) object's rows have not sent yet, and the
 * idempotent upserts that keep the admin API's tables current. The objects call it from their alarm; a
 * failure only delays the projection (the objects keep their rows marked unprojected and try again), it
 * never loses or blocks a payment.
 */
import type { ChannelName, ProviderName } from '../providers/core/types'
import {
  nextAttemptIso,
  type DeliveryStatus,
  type EventType,
  type NotificationSource,
  type NotificationVerdict,
  type OrderRow,
  type OrderStatus,
  type OrderStore,
} from './order'
import { countAttempt, countDeliveryOutcome, countNotification, statsStatement, type StatsDelta } from './stats'

export interface OrderProjection {
  merchantId: string
  provider: ProviderName
  outTradeNo: string
  status: OrderStatus
  expectedAmount: number | null
  amount: number | null
  currency: string | null
  transactionId: string | null
  paidAt: string | null
  refundedAmount: number
  version: number
  updatedAt: string
}

export interface NotificationProjection {
  id: string
  merchantId: string
  channel: ChannelName
  outTradeNo: string | null
  providerNotificationId: string | null
  receivedAt: string
  verdict: NotificationVerdict
  reason: string | null
  source: NotificationSource
  /** A provider notification's type and subject object (null for an order's notifications). */
  notificationType?: string | null
  subjectKey?: string | null
}

export interface DeliveryProjection {
  id: string
  merchantId: string
  provider: ProviderName
  /** The order it belongs to, or null for a subject object's `provider.notification`. */
  outTradeNo: string | null
  subjectKey: string | null
  eventId: string
  type: EventType
  status: DeliveryStatus
  reason: string | null
  attempts: number
  nextAttemptAt: string | null
  lastStatusCode: number | null
  createdAt: string
  updatedAt: string
  version: number
  /** What the stats have counted of it once this batch is in: marked back on the order object's row. */
  counted: { status: DeliveryStatus | null; attempts: number }
}

export interface ProjectionBatch {
  merchantId: string
  order: OrderProjection | null
  notifications: NotificationProjection[]
  deliveries: DeliveryProjection[]
  /** The merchant's counters this batch adds, per minute. */
  stats: StatsDelta
}

/** Whose rows an object holds: an order's, or a subject's (provider notifications about no order). */
function ownerOf(store: OrderStore): { merchantId: string; provider: ProviderName; outTradeNo: string | null; subjectKey: string | null } {
  const order = store.order.get()
  if (order !== null) return { merchantId: order.merchantId, provider: order.provider, outTradeNo: order.outTradeNo, subjectKey: null }
  const subject = store.subject.get()
  if (subject === null) throw new TypeError('the object holds neither an order nor a subject')
  return { merchantId: subject.merchantId, provider: subject.provider, outTradeNo: null, subjectKey: subject.subjectKey }
}

/** Everything in one order (or subject) object's store the D1 projection has not received yet, in the projection's shapes. */
export function unprojected(store: OrderStore): ProjectionBatch {
  const order = store.order.get()
  const { merchantId, provider, outTradeNo, subjectKey } = ownerOf(store)
  const stats: StatsDelta = new Map()
  const notifications = store.notifications.unprojected(500).map((n) => {
    // Each notification is projected once, so counted once.
    countNotification(stats, n.receivedAt, n.verdict, n.reason)
    return {
      id: n.id,
      merchantId,
      channel: n.channel,
      outTradeNo,
      providerNotificationId: n.providerNotificationId,
      receivedAt: n.receivedAt,
      verdict: n.verdict,
      reason: n.reason,
      source: n.source,
      notificationType: n.notificationType ?? null,
      subjectKey,
    }
  })
  const deliveries = store.deliveries.unprojected().map((d) => {
    const final = d.status === 'delivered' || d.status === 'failed'
    if ((d.status === 'delivered' || d.status === 'failed') && d.countedStatus !== d.status)
      countDeliveryOutcome(stats, d.updatedAt, d.status)
    const newAttempts = d.attempts > d.countedAttempts ? store.deliveries.attempts(d.id).filter((a) => a.number > d.countedAttempts) : []
    for (const attempt of newAttempts) countAttempt(stats, attempt.startedAt, attempt.latencyMs)
    return {
      id: d.id,
      merchantId,
      provider,
      outTradeNo,
      subjectKey,
      eventId: d.eventId,
      type: d.eventType,
      status: d.status,
      reason: d.status === 'failed' ? d.failureReason : null,
      attempts: d.attempts,
      nextAttemptAt: nextAttemptIso(d),
      lastStatusCode: d.lastStatusCode,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
      version: d.version,
      counted: { status: final ? d.status : d.countedStatus, attempts: Math.max(d.countedAttempts, d.attempts) },
    }
  })
  return {
    merchantId,
    order: order !== null && order.projectedVersion < order.version ? orderProjection(order) : null,
    notifications,
    deliveries,
    stats,
  }
}

/** Marks exactly what `batch` sent: rows added or changed meanwhile stay unprojected. */
export function markProjected(store: OrderStore, batch: ProjectionBatch): void {
  if (batch.order) store.order.markProjected(batch.order.version)
  store.notifications.markProjected(batch.notifications.map((n) => n.id))
  for (const d of batch.deliveries) store.deliveries.markProjected(d.id, d.version, d.counted)
}

/** True when the batch holds something to send. */
export function hasRows(batch: ProjectionBatch): boolean {
  return batch.order !== null || batch.notifications.length > 0 || batch.deliveries.length > 0 || batch.stats.size > 0
}

function orderProjection(order: OrderRow): OrderProjection {
  return {
    merchantId: order.merchantId,
    provider: order.provider,
    outTradeNo: order.outTradeNo,
    status: order.status,
    expectedAmount: order.expectedAmount,
    amount: order.amount,
    currency: order.currency ?? order.expectedCurrency,
    transactionId: order.transactionId,
    paidAt: order.paidAt,
    refundedAmount: order.refundedAmount,
    version: order.version,
    updatedAt: order.updatedAt,
  }
}

function orderStatement(db: D1Database, o: OrderProjection): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO orders (merchant_id, provider, out_trade_no, status, expected_amount, amount, currency, transaction_id,
         paid_at, refunded_amount, version, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (merchant_id, provider, out_trade_no) DO UPDATE SET
         status = excluded.status, expected_amount = excluded.expected_amount, amount = excluded.amount,
         currency = excluded.currency, transaction_id = excluded.transaction_id, paid_at = excluded.paid_at,
         refunded_amount = excluded.refunded_amount, version = excluded.version, updated_at = excluded.updated_at
       WHERE excluded.version > orders.version`,
    )
    .bind(
      o.merchantId,
      o.provider,
      o.outTradeNo,
      o.status,
      o.expectedAmount,
      o.amount,
      o.currency,
      o.transactionId,
      o.paidAt,
      o.refundedAmount,
      o.version,
      o.updatedAt,
    )
}

export function notificationStatement(db: D1Database, n: NotificationProjection): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO notifications (id, merchant_id, channel, out_trade_no, provider_notification_id, received_at, verdict, reason, source,
         notification_type, subject_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    )
    .bind(
      n.id,
      n.merchantId,
      n.channel,
      n.outTradeNo,
      n.providerNotificationId,
      n.receivedAt,
      n.verdict,
      n.reason,
      n.source,
      n.notificationType ?? null,
      n.subjectKey ?? null,
    )
}

function deliveryStatement(db: D1Database, d: DeliveryProjection): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO deliveries (id, merchant_id, provider, out_trade_no, subject_key, event_id, type, status, reason, attempts,
         next_attempt_at, last_status_code, created_at, updated_at, version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET
         status = excluded.status, reason = excluded.reason, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
         last_status_code = excluded.last_status_code, updated_at = excluded.updated_at, version = excluded.version
       WHERE excluded.version > deliveries.version`,
    )
    .bind(
      d.id,
      d.merchantId,
      d.provider,
      d.outTradeNo,
      d.subjectKey,
      d.eventId,
      d.type,
      d.status,
      d.reason,
      d.attempts,
      d.nextAttemptAt,
      d.lastStatusCode,
      d.createdAt,
      d.updatedAt,
      d.version,
    )
}

/** Applies the batch as one D1 transaction. Throws when D1 is unavailable; callers retry later. */
export async function project(db: D1Database, batch: ProjectionBatch): Promise<void> {
  const statements = [
    ...(batch.order ? [orderStatement(db, batch.order)] : []),
    ...batch.notifications.map((n) => notificationStatement(db, n)),
    ...batch.deliveries.map((d) => deliveryStatement(db, d)),
    ...[...batch.stats].map(([minute, counts]) => statsStatement(db, batch.merchantId, minute, counts)),
  ]
  if (statements.length > 0) await db.batch(statements)
}
