/** @module The projection's statements: idempotent, version-guarded upserts of an order, a delivery, a notification. */
import type { DeliveryProjection, NotificationProjection, OrderProjection } from './records'

export function orderStatement(db: D1Database, o: OrderProjection): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO orders (merchant_id, provider, out_trade_no, status, expected_amount, amount, currency, transaction_id,
         paid_at, refunded_amount, version, updated_at, accepted_notifications)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (merchant_id, provider, out_trade_no) DO UPDATE SET
         status = excluded.status, expected_amount = excluded.expected_amount, amount = excluded.amount,
         currency = excluded.currency, transaction_id = excluded.transaction_id, paid_at = excluded.paid_at,
         refunded_amount = excluded.refunded_amount, version = excluded.version, updated_at = excluded.updated_at,
         accepted_notifications = max(orders.accepted_notifications, excluded.accepted_notifications)
       WHERE excluded.version > orders.version OR excluded.accepted_notifications > orders.accepted_notifications`,
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
      o.acceptedNotifications,
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

export function deliveryStatement(db: D1Database, d: DeliveryProjection): D1PreparedStatement {
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
