/** @module The order as the admin API shows it, read from the object's own rows: reflects every accepted notification at once. */
import { isoNow } from '../lib/ids'
import { nextAttemptIso, type OrderStatus, type OrderStore, type ReconciliationRow } from '../storage/order'

export interface OrderSnapshot {
  merchant_id: string
  provider: string
  out_trade_no: string
  status: OrderStatus
  amount: number | null
  expected_amount: number | null
  currency: string | null
  transaction_id: string | null
  paid_at: string | null
  refunded_amount: number
  updated_at: string
  /** When the object last dropped, past its retention date, what the tombstone does not keep; null if never. */
  compacted_at: string | null
  /** Each event with `body`, the exact JSON the merchant receives. */
  events: { id: string; type: string; created_at: string; body: string }[]
  deliveries: {
    id: string
    event_id: string
    type: string
    status: string
    attempts: number
    next_attempt_at: string | null
    last_status_code: number | null
    attempt_log: {
      number: number
      started_at: string
      status_code: number | null
      latency_ms: number
      outcome: string
      error: string | null
    }[]
  }[]
  notifications: { id: string; channel: string; received_at: string; verdict: string; reason: string | null; source: string }[]
  /** Every refund the gateway knows of: registered, notified (held while its own amount is in doubt), settled. */
  refunds: {
    out_refund_no: string
    refund_id: string | null
    amount: number | null
    status: string
    registered_amount: number | null
    next_query_at: string | null
    last_query_result: string | null
  }[]
  /** Provider queries for a registered order whose payment was not notified (null when none were planned). */
  reconciliation: {
    next_query_at: string | null
    queries_made: number
    last_query_at: string | null
    last_result: string | null
    expires_at: string
  } | null
}

export function orderSnapshot(store: OrderStore): OrderSnapshot | null {
  const order = store.order.get()
  if (order === null) return null
  return {
    merchant_id: order.merchantId,
    provider: order.provider,
    out_trade_no: order.outTradeNo,
    status: order.status,
    amount: order.amount ?? order.expectedAmount,
    expected_amount: order.expectedAmount,
    currency: order.currency ?? order.expectedCurrency,
    transaction_id: order.transactionId,
    paid_at: order.paidAt,
    refunded_amount: order.refundedAmount,
    updated_at: order.updatedAt,
    compacted_at: store.compactedAt(),
    events: store.events.all().map((e) => ({ id: e.id, type: e.type, created_at: e.createdAt, body: e.body })),
    deliveries: store.deliveries.allWithAttempts().map((d) => ({
      id: d.id,
      event_id: d.eventId,
      type: d.eventType,
      status: d.status,
      attempts: d.attempts,
      next_attempt_at: nextAttemptIso(d),
      last_status_code: d.lastStatusCode,
      attempt_log: d.attemptLog.map((a) => ({
        number: a.number,
        started_at: a.startedAt,
        status_code: a.statusCode,
        latency_ms: a.latencyMs,
        outcome: a.outcome,
        error: a.error,
      })),
    })),
    notifications: store.notifications.all().map((n) => ({
      id: n.id,
      channel: n.channel,
      received_at: n.receivedAt,
      verdict: n.verdict,
      reason: n.reason,
      source: n.source,
    })),
    refunds: store.refunds.rows().map((r) => ({
      out_refund_no: r.outRefundNo,
      refund_id: r.refundId,
      amount: r.amount,
      status: r.status,
      registered_amount: r.registeredAmount,
      next_query_at: r.nextQueryAt === null ? null : isoNow(r.nextQueryAt),
      last_query_result: r.lastResult,
    })),
    reconciliation: reconciliationView(store.reconciliation.get()),
  }
}

function reconciliationView(plan: ReconciliationRow | null): OrderSnapshot['reconciliation'] {
  if (plan === null) return null
  return {
    next_query_at: plan.nextQueryAt === null ? null : isoNow(plan.nextQueryAt),
    queries_made: plan.queriesMade,
    last_query_at: plan.lastQueryAt === null ? null : isoNow(plan.lastQueryAt),
    last_result: plan.lastResult,
    expires_at: isoNow(plan.expiresAt),
  }
}
