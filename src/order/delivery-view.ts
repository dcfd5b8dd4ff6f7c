/** @module One delivery as `GET /admin/deliveries/{id}` shows it: its state, every attempt with the start of the reply, and the event sent. */
import { nextAttemptIso, type DeliveryStatus, type FailureReason, type OrderStore } from '../storage/order'

export interface DeliveryView {
  id: string
  event_id: string
  type: string
  merchant_id: string
  provider: string
  /** null for a subject object's delivery (`provider.notification`): it is about no order. */
  out_trade_no: string | null
  status: DeliveryStatus
  reason: FailureReason | null
  last_error: string | null
  next_attempt_at: string | null
  last_status_code: number | null
  created_at: string
  updated_at: string
  attempts: { at: string; status_code: number | null; duration_ms: number; error: string | null; response_snippet: string | null }[]
  /** The event exactly as the merchant receives it. */
  event: Record<string, unknown>
}

/** A delivery of an order object or of a subject object (same storage); null when this object has no such delivery. */
export function deliveryView(store: OrderStore, deliveryId: string): DeliveryView | null {
  const order = store.order.get()
  const owner = order ?? store.subject.get()
  const delivery = store.deliveries.get(deliveryId)
  if (owner === null || delivery === null) return null
  return {
    id: delivery.id,
    event_id: delivery.eventId,
    type: delivery.eventType,
    merchant_id: owner.merchantId,
    provider: owner.provider,
    out_trade_no: order?.outTradeNo ?? null,
    status: delivery.status,
    reason: delivery.status === 'failed' ? delivery.failureReason : null,
    last_error: delivery.lastError,
    next_attempt_at: nextAttemptIso(delivery),
    last_status_code: delivery.lastStatusCode,
    created_at: delivery.createdAt,
    updated_at: delivery.updatedAt,
    attempts: store.deliveries.attempts(delivery.id).map((a) => ({
      at: a.startedAt,
      status_code: a.statusCode,
      duration_ms: a.latencyMs,
      error: a.error,
      response_snippet: a.responseSnippet,
    })),
    event: JSON.parse(store.events.get(delivery.eventSeq).body) as Record<string, unknown>,
  }
}
