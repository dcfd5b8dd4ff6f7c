/**
 * @module Taking in one verified notification, or a provider query's answer: dedupe, the state
 * machine and the outbox rows, in one synchronous SQLite transaction that commits or rolls back
 * whole. The RPC reply (hence the provider's accept) leaves only after it commits (output gate).
 */
import { isoNow, newId } from '../lib/ids'
import type { VerifiedNotification } from '../providers/core/types'
import type { NotificationSource, NotificationVerdict, OrderRef, OrderStatus, OrderStore } from '../storage/order'
import type { OrderContext } from './context'
import type { ForwardedEvent } from './events'
import { sealForwardTarget, type ForwardSettings } from './forward-target'
import { DEFAULT_ORDER_LIFETIME_MS } from './reconcile-schedule'
import { AWAITING_PAYMENT, decide } from './state-machine'

export interface IngestRequest {
  order: OrderRef
  notification: VerifiedNotification
  settings: ForwardSettings
  receivedAt: number
  source: NotificationSource
  /** The merchant registers its orders: a payment for an unregistered one is doubtful until a query confirms it. */
  requireRegisteredOrder?: boolean
}

/** Why the order object refused a notification it could authenticate. */
export type IngestRejection = 'amount_mismatch' | 'order_not_registered' | 'refund_before_payment'

export interface IngestResult {
  verdict: NotificationVerdict
  reason: IngestRejection | null
  status: OrderStatus
  /** `webhook-id`s of the events this notification produced (none for duplicates and no-ops). */
  eventIds: string[]
}

/** Records a verified notification exactly once. Throws only when nothing could be stored. */
export async function ingestNotification(ctx: OrderContext, request: IngestRequest): Promise<IngestResult> {
  const saveForwardTarget = await sealForwardTarget(ctx, request.order.merchantId, request.settings)
  const nowMs = Date.now()
  const result = ctx.storage.transactionSync((): IngestResult => {
    ctx.store.order.ensure(request.order, isoNow(nowMs))
    saveForwardTarget(isoNow(nowMs))
    const { receivedAt, source } = request
    return applyNotification(ctx.store, request.notification, {
      receivedAt,
      source,
      nowMs,
      requireRegisteredOrder: request.requireRegisteredOrder === true,
    })
  })
  // Same output-gated storage as the transaction: the alarm is durable before the reply leaves.
  await ctx.storage.setAlarm(nowMs)
  return result
}

export interface ApplyOptions {
  receivedAt: number
  source: NotificationSource
  nowMs: number
  requireRegisteredOrder?: boolean
}

/**
 * Dedupes, decides and writes the outbox. Call it inside a `transactionSync`, after the order row
 * exists. A notification and a query answer go through here alike.
 */
export function applyNotification(store: OrderStore, notification: VerifiedNotification, options: ApplyOptions): IngestResult {
  const { source, nowMs } = options
  const now = isoNow(nowMs)
  const order = store.order.get()!
  const audit = (verdict: NotificationVerdict, reason: string | null): void =>
    store.notifications.record({
      id: newId('ntf'),
      channel: notification.channel,
      providerNotificationId: notification.notificationId,
      receivedAt: isoNow(options.receivedAt),
      verdict,
      reason,
      source,
    })

  if (store.notifications.hasSeen(notification.notificationId)) {
    audit('duplicate', null)
    return { verdict: 'duplicate', reason: null, status: order.status, eventIds: [] }
  }

  const unregistered = options.requireRegisteredOrder === true && order.expectedAmount === null && AWAITING_PAYMENT.has(order.status)
  if (source === 'notify' && notification.effect.kind === 'payment' && unregistered) {
    // Doubtful: the merchant never announced this order. Ask the provider; its signed answer decides,
    // and the provider's retry of this notification then finds the order settled either way.
    audit('rejected', 'order_not_registered')
    store.reconciliation.plan(nowMs, nowMs + DEFAULT_ORDER_LIFETIME_MS)
    return { verdict: 'rejected', reason: 'order_not_registered', status: order.status, eventIds: [] }
  }

  const decision = decide(order, notification.effect, store.refunds, now)
  if (decision.verdict === 'rejected') {
    audit('rejected', decision.reason)
    if (decision.next.status !== order.status) store.order.save(decision.next, now)
    // A doubtful report (wrong amount, a refund of a payment not seen yet): ask the provider once;
    // its signed answer decides.
    if (source === 'notify') store.reconciliation.plan(nowMs, nowMs + DEFAULT_ORDER_LIFETIME_MS)
    return { verdict: 'rejected', reason: decision.reason, status: decision.next.status, eventIds: [] }
  }

  store.notifications.markSeen(notification.notificationId, now)
  audit('accepted', decision.events.length === 0 ? 'no change' : null)
  if (decision.refundApplied) {
    const r = decision.refundApplied
    store.refunds.record(r.outRefundNo, r.outcome, r.amount)
  }
  store.order.save(decision.next, now)
  if (!AWAITING_PAYMENT.has(decision.next.status)) store.reconciliation.stop()
  const eventIds = decision.events.map((draft) => {
    const id = newId('evt')
    const body: ForwardedEvent = {
      type: draft.type,
      timestamp: draft.occurredAt,
      data: {
        merchant_id: order.merchantId,
        provider: notification.provider,
        channel: notification.channel,
        out_trade_no: order.outTradeNo,
        transaction_id: decision.next.transactionId,
        amount: decision.next.amount,
        currency: decision.next.currency ?? 'CNY',
        paid_at: decision.next.paidAt,
        refund: draft.refund,
        raw: notification.raw,
      },
    }
    const seq = store.events.add({ id, type: draft.type, channel: notification.channel, body: JSON.stringify(body), createdAt: now })
    store.deliveries.add(newId('dlv'), seq, nowMs, now)
    return id
  })
  return { verdict: 'accepted', reason: null, status: decision.next.status, eventIds }
}
