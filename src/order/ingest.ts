/**
 * @module Taking in one verified notification, or a provider query's answer: dedupe, the state
 * machine and the outbox rows, in one synchronous SQLite transaction that commits or rolls back
 * whole. The RPC reply (hence the provider's accept) leaves only after it commits (output gate).
 */
import { isoNow, newId } from '../lib/ids'
import type { VerifiedNotification } from '../providers/core/types'
import type { NotificationSource, NotificationVerdict, OrderRef, OrderStatus, OrderStore } from '../storage/order'
import { sameCombine } from './combined-payment'
import type { OrderContext } from './context'
import { sealForwardTarget, type ForwardSettings } from './forward-target'
import { measured, meterIngest } from './meter'
import { addOrderEvents } from './outbox'
import { DEFAULT_ORDER_LIFETIME_MS, REFUND_LIFETIME_MS } from './reconcile-schedule'
import { AWAITING_PAYMENT, decide, PAID_STATES, type RejectionReason } from './state-machine'

export interface IngestRequest {
  order: OrderRef
  notification: VerifiedNotification
  settings: ForwardSettings
  receivedAt: number
  source: NotificationSource
  /**
   * The merchant registers its orders: a payment for an unregistered one is doubtful until a query confirms it, or
   * (when its keys allow no query) until the merchant registers it.
   */
  requireRegisteredOrder?: boolean
  /** The merchant's keys, and the order number, allow an order query. */
  canQueryOrders?: boolean
  /** The merchant wants every payment confirmed by an order query before it is forwarded (and has the keys). */
  confirmPayments?: boolean
  /** The merchant's keys allow refund queries: an Alipay refund whose own amount is in doubt is asked about. */
  canQueryRefunds?: boolean
  /**
   * The merchant wants payments confirmed by query, but no query can confirm this one (a combined payment's sub-order
   * its channel cannot ask about): it is paid as notified, and its audit entry says why.
   */
  unconfirmable?: boolean
}

/** Why the order object refused a notification it could authenticate. */
export type IngestRejection = RejectionReason | 'order_not_registered'

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
  const newOrder = ctx.store.order.get() === null
  const { result, rows } = measured(ctx, () =>
    ctx.store.transaction((): IngestResult => {
      ctx.store.order.ensure(request.order, isoNow(nowMs))
      saveForwardTarget(isoNow(nowMs))
      const { receivedAt, source } = request
      return applyNotification(ctx.store, request.notification, {
        receivedAt,
        source,
        nowMs,
        requireRegisteredOrder: request.requireRegisteredOrder === true,
        canQueryOrders: request.canQueryOrders === true,
        confirmPayments: request.confirmPayments === true,
        canQueryRefunds: request.canQueryRefunds === true,
        unconfirmable: request.unconfirmable === true,
      })
    }),
  )
  // Same output-gated storage as the transaction: the alarm is durable before the reply leaves. A duplicate changed
  // nothing, so it needs no alarm (its count reaches the stats from the Worker), unless the object owes work and has
  // none (the original's commit stood but its alarm failed: the provider was told to retry, and this is the retry), or
  // is a tombstone, whose late duplicate's audit entry goes at its own retention date.
  const setsAlarm = result.verdict !== 'duplicate' || (await alarmMissing(ctx))
  if (setsAlarm) await ctx.store.setAlarm(nowMs)
  meterIngest(ctx, 'order', { verdict: result.verdict, new_order: newOrder }, { rows, alarms: setsAlarm ? 1 : 0 })
  return result
}

/**
 * The object owes an alarm run work, or is a tombstone that must be compacted again, and has no alarm set (a running
 * one reads as none: it sets the next itself).
 */
async function alarmMissing(ctx: OrderContext): Promise<boolean> {
  if (ctx.projection.alarmRunning) return false
  if (!ctx.store.hasWorkLeft() && ctx.store.compactedAt() === null) return false
  return (await ctx.storage.getAlarm()) === null
}

export interface ApplyOptions {
  receivedAt: number
  source: NotificationSource
  nowMs: number
  /**
   * The notification was accepted before, awaiting confirmation by an order query that can no longer be made: it is
   * applied now (not a duplicate), and its audit entry says why.
   */
  paidAsNotified?: string
  requireRegisteredOrder?: boolean
  canQueryOrders?: boolean
  confirmPayments?: boolean
  canQueryRefunds?: boolean
  unconfirmable?: boolean
}

/**
 * Dedupes, decides and writes the outbox. Call it inside a `store.transaction`, after the order row
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
      effect: notification.effect.kind,
    })

  // A combined payment's sub-order: from now on the order is asked about only through its combine (also when this
  // notification is refused below, as the query it plans is, and when it is a resend of one stored before orders
  // kept their combine: its held payment must not be asked about with the ordinary query). A combine the merchant
  // named (registering the order) gives way to the one the provider's verified report names.
  if (notification.combinedPayment !== undefined && !sameCombine(order.combinedPayment, notification.combinedPayment)) {
    store.order.noteCombinedPayment(notification.combinedPayment)
  }
  if (options.paidAsNotified === undefined && store.notifications.hasSeen(notification.notificationId)) {
    audit('duplicate', null)
    return { verdict: 'duplicate', reason: null, status: order.status, eventIds: [] }
  }

  const { effect } = notification
  const impliesPayment = effect.kind === 'payment' || (effect.kind === 'refund' && effect.payment !== null)
  // Not paid: pending, or closed unpaid (a payment after a close wins, so it is as doubtful as one before it).
  const unregistered = options.requireRegisteredOrder === true && order.expectedAmount === null && !PAID_STATES.has(order.status)
  if (source === 'notify' && impliesPayment && unregistered) {
    // Doubtful: the merchant never announced this order. Ask the provider when the keys allow; its signed answer
    // decides, and the provider's retry of this notification then finds the order settled either way. Without a
    // query, the retry is accepted once the merchant registers the order.
    audit('rejected', 'order_not_registered')
    if (options.canQueryOrders === true) planDoubtQuery(store, order.status, nowMs)
    return { verdict: 'rejected', reason: 'order_not_registered', status: order.status, eventIds: [] }
  }

  const decision = decide(order, effect, store.refunds, now, {
    channel: notification.channel,
    raw: notification.raw,
    canQueryRefunds: options.canQueryRefunds === true,
    confirmPayments: options.confirmPayments === true,
    nowMs,
  })
  if (decision.verdict === 'rejected') {
    audit('rejected', decision.reason)
    if (decision.next.status !== order.status) store.order.save(decision.next, now)
    // A doubtful report (wrong amount, a refund of a payment not seen yet, even one found by a refund
    // query): ask the provider about the order once; its signed answer decides.
    if (decision.reason === 'refund_before_payment' || (source === 'notify' && decision.reason === 'amount_mismatch')) {
      planDoubtQuery(store, decision.next.status, nowMs)
    }
    return { verdict: 'rejected', reason: decision.reason, status: decision.next.status, eventIds: [] }
  }

  const paying = decision.events.some((event) => event.type === 'payment.succeeded')
  if (source === 'notify' && effect.kind === 'payment' && paying && options.confirmPayments === true) {
    // The merchant wants every payment confirmed: the notification is kept (a retry is a duplicate), and
    // the order query planned now pays the order with the provider's signed answer.
    audit('accepted', 'awaiting confirmation by order query')
    store.reconciliation.plan(nowMs, nowMs + DEFAULT_ORDER_LIFETIME_MS, { notification, receivedAt: options.receivedAt })
    return { verdict: 'accepted', reason: null, status: order.status, eventIds: [] }
  }
  const held = decision.refunds?.held === true
  audit(
    'accepted',
    options.paidAsNotified ??
      (paying && options.unconfirmable === true ? 'paid as notified: a combined payment no query can confirm' : null) ??
      (held ? 'refund amount in doubt: held until registered or queried' : decision.events.length === 0 ? 'no change' : null),
  )
  for (const row of decision.refunds?.rows ?? []) {
    // A held refund the merchant can query is watched like a registered one.
    const watched = row.nextQueryAt !== null && row.expiresAt === null ? { ...row, expiresAt: nowMs + REFUND_LIFETIME_MS } : row
    store.refunds.save(watched, now)
  }
  for (const r of decision.refunds?.emitted ?? []) store.refunds.record(r.outRefundNo, r.outcome, r.amount)
  store.order.save(decision.next, now)
  if (!awaitsQuery(store, decision.next.status)) store.reconciliation.stop()
  const origin = { provider: notification.provider, report: { channel: notification.channel, raw: notification.raw } }
  const eventIds = addOrderEvents(store, order, decision.next, decision.events, origin, nowMs)
  return { verdict: 'accepted', reason: null, status: decision.next.status, eventIds }
}

/** The least time between two queries a doubtful report plans. */
const DOUBT_QUERY_INTERVAL_MS = 60_000

/**
 * Asks the provider about a doubtful report; of a closed order (whose queries ended with the close) too, marked so
 * that the close does not end this query before it is answered.
 */
function planDoubtQuery(store: OrderStore, status: OrderStatus, nowMs: number): void {
  // A minute after the last query at the soonest: a refused notification sent again and again (the provider's quick
  // retries, or someone replaying a captured one) asks the provider once a minute at most, not once per copy.
  const lastQueryAt = store.reconciliation.get()?.lastQueryAt ?? null
  const queryAt = lastQueryAt === null ? nowMs : Math.max(nowMs, lastQueryAt + DOUBT_QUERY_INTERVAL_MS)
  if (AWAITING_PAYMENT.has(status)) store.reconciliation.plan(queryAt, nowMs + DEFAULT_ORDER_LIFETIME_MS)
  else store.reconciliation.planReopened(nowMs, queryAt, nowMs + DEFAULT_ORDER_LIFETIME_MS)
  store.reconciliation.noteReport(nowMs)
}

/**
 * Whether the order is still worth asking about: a payment may still arrive, or one notified after a close awaits its
 * confirmation (a payment after a close wins, once the provider's answer confirms it).
 */
export function awaitsQuery(store: OrderStore, status = store.order.get()?.status): boolean {
  if (status === undefined || PAID_STATES.has(status)) return false
  if (AWAITING_PAYMENT.has(status)) return true
  // Closed: only a mark on the plan keeps it asked about. (Read last: a new payment's ingest and alarm, paid, skip it.)
  const plan = store.reconciliation.get()
  return plan?.unconfirmed !== undefined || plan?.reopened !== undefined
}
