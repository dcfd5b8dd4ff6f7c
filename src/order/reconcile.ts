/**
 * @module Provider queries for one order: a due (or forced) query, its verified answer applied like
 * a notification (`source: "query"`) in one transaction, the next query planned. One at a time.
 */
import { isoNow } from '../lib/ids'
import { log } from '../lib/log'
import type { CombinedPaymentRef } from '../providers/core/types'
import { newOrder, type OrderRef, type OrderStatus, type ReconciliationRow } from '../storage/order'
import { noteNamedCombine } from './combined-payment'
import type { OrderContext } from './context'
import { sealForwardTarget, type ForwardSettings } from './forward-target'
import { applyNotification, awaitsQuery } from './ingest'
import { queryProvider, type QueryAnswer } from './provider-query'
import { DEFAULT_ORDER_LIFETIME_MS, nextQueryAt, UNCONFIRMED_WATCH_MS } from './reconcile-schedule'
import type { RefundReconciler } from './refund-reconcile'

export interface ReconcileOutcome {
  /** When the next query is due (epoch ms), or null. */
  nextDueAt: number | null
  summary: string
}

/** Shares the query in flight: an alarm and an admin sync arriving together make one provider call. */
export class Reconciler {
  /** In memory: lost with the instance, which is fine. */
  private inFlight: Promise<ReconcileOutcome> | null = null

  /**
   * Runs a due query (any query, with `force`) and returns when the next one is due. `answer`: one the caller has
   * just had from the provider, applied instead of asking again, with `asked` as the plan was when it asked.
   */
  run(ctx: OrderContext, nowMs: number, options: QueryOptions = {}): Promise<ReconcileOutcome> {
    if (this.inFlight !== null) return this.inFlight
    const run = queryIfDue(ctx, nowMs, options).finally(() => {
      this.inFlight = null
    })
    this.inFlight = run
    return run
  }
}

interface QueryOptions {
  force?: boolean
  answer?: QueryAnswer
  /** The order's plan when the caller's query for `answer` was sent (null: none). */
  asked?: ReconciliationRow | null
}

async function queryIfDue(ctx: OrderContext, nowMs: number, options: QueryOptions): Promise<ReconcileOutcome> {
  const { store } = ctx
  const plan = store.reconciliation.get()
  const order = store.order.get()
  if (plan === null || order === null) return { nextDueAt: null, summary: 'nothing to ask' }
  if (!options.force) {
    if (plan.nextQueryAt === null) return { nextDueAt: null, summary: 'nothing to ask' }
    if (!awaitsQuery(store)) {
      store.reconciliation.stop()
      return { nextDueAt: null, summary: 'settled' }
    }
    if (plan.nextQueryAt > nowMs) return { nextDueAt: plan.nextQueryAt, summary: 'not due' }
  }

  const answer = options.answer ?? (await queryProvider(ctx.env, ctx.registry, order, nowMs))
  const finishedAt = Date.now()
  return ctx.store.transaction(() => {
    // As planned before the answer is applied (which may close the order, ending its plan). A doubtful report that came
    // in while this query was out is not answered by it: its plan outlasts the answer.
    const planned = store.reconciliation.get()!
    const lateReport = planned.reportedAt !== undefined && planned.reportedAt >= nowMs ? planned.reportedAt : null
    let summary = answer.summary
    if (answer.notification !== null) {
      const applied = applyNotification(store, answer.notification, { receivedAt: finishedAt, source: 'query', nowMs: finishedAt })
      summary = `${summary} (${applied.verdict})`
    }
    const { unconfirmed } = store.reconciliation.get()!
    if (unconfirmed !== undefined && answer.noQueryKeys === true && awaitsQuery(store)) {
      // The payment awaits a confirmation the merchant's keys no longer allow: paid as notified, as every payment of a
      // merchant without query keys is, rather than left unpaid after the provider was told it was taken. Once only,
      // whatever the verdict (a registered amount it does not match refuses it). It passed the registration rule when
      // it arrived (an unregistered order's payment is refused before it can wait for confirmation).
      store.reconciliation.dropUnconfirmed()
      const applied = applyNotification(store, unconfirmed.notification, {
        receivedAt: unconfirmed.receivedAt,
        source: 'notify',
        nowMs: finishedAt,
        paidAsNotified: 'paid as notified: no query keys left to confirm it',
      })
      summary = `${summary} (paid as notified: ${applied.verdict})`
    }
    if (lateReport !== null && !answer.final && !awaitsQuery(store) && store.order.get()!.status === 'closed') {
      // The answer closed the order the report says was paid: asked about as a closed order reported paid.
      store.reconciliation.planReopened(lateReport, planned.nextQueryAt ?? finishedAt, planned.expiresAt)
    }
    const current = store.reconciliation.get()!
    const kept = current.unconfirmed
    // "Not paid" (or closed) denies a kept payment only if the notification had arrived when the query was sent (`nowMs`).
    const denied = answer.notPaid === true && kept !== undefined && kept.receivedAt < nowMs
    if (denied) store.reconciliation.dropUnconfirmed()
    // The provider's word on a reopened closed order ends its doubt: not paid (if the report had arrived when the query
    // was sent), or paid (applied above: settled).
    if (answer.notPaid === true && current.reopened !== undefined && current.reopened < nowMs) store.reconciliation.endReopened()
    const settled = !awaitsQuery(store) || answer.final
    if (settled) store.reconciliation.endReopened()
    let next = settled ? null : nextQueryAt(current.queriesMade + 1, finishedAt, current.expiresAt)
    // A payment kept for confirmation that came in while this query was out is not confirmed by it either.
    const asked = options.asked === undefined ? plan : options.asked
    const keptMeanwhile = kept !== undefined && asked?.unconfirmed?.receivedAt !== kept.receivedAt
    if (!settled && (lateReport !== null || keptMeanwhile) && planned.nextQueryAt !== null) {
      // Its query is due when it was planned (now, if that has passed), not on this answer's schedule.
      const due = Math.max(planned.nextQueryAt, finishedAt)
      next = next === null ? due : Math.min(next, due)
    }
    if (next === null && !settled && kept !== undefined && !denied) {
      // No answer confirmed it (queries failed: keys that stopped working, the provider unreachable; or an answer was
      // refused), and the provider, told the payment was taken, retries no more: keep it and keep asking, hourly for a
      // week after it arrived, then on a sync.
      const watchEnd = kept.receivedAt + UNCONFIRMED_WATCH_MS
      if (finishedAt < watchEnd) {
        store.reconciliation.extend(watchEnd)
        next = nextQueryAt(current.queriesMade + 1, finishedAt, watchEnd)
      } else {
        log('error', {
          event: 'payment.unconfirmed',
          merchant_id: order.merchantId,
          channel: kept.notification.channel,
          out_trade_no: order.outTradeNo,
          reason: summary,
        })
      }
    }
    // The provider's signed word that it is not paid, or a settled order: no kept notification pays it later.
    if (denied || settled) store.reconciliation.dropUnconfirmed()
    store.reconciliation.recordQuery(finishedAt, summary, next)
    return { nextDueAt: next, summary }
  })
}

/** What an admin sync found: the order query's result, and one line per refund it asked about. */
export interface SyncResult {
  status: OrderStatus
  query: string
  refunds: string[]
  /** Why the combine the admin named was refused (the provider reported the order otherwise); nothing was asked then. */
  conflict?: string
}

/** Asks the provider about this order and its unsettled refunds now (admin sync), whatever the schedule says. */
export async function syncOrder(
  ctx: OrderContext,
  reconciler: Reconciler,
  refunds: RefundReconciler,
  order: OrderRef,
  settings: ForwardSettings,
  combinedPayment?: CombinedPaymentRef,
): Promise<SyncResult> {
  const saveForwardTarget = await sealForwardTarget(ctx, order.merchantId, settings)
  const nowMs = Date.now()
  let answer: QueryAnswer | undefined
  let asked: ReconciliationRow | null = null
  if (ctx.store.order.get() === null) {
    // An order the gateway has not seen: asked about first, and kept only if the provider reports something (a payment
    // or a close); otherwise nothing is stored, nothing is watched, and it stays unknown (GET answers 404).
    const unseen = { ...newOrder(order, isoNow(nowMs)), ...(combinedPayment === undefined ? {} : { combinedPayment }) }
    asked = ctx.store.reconciliation.get()
    answer = await queryProvider(ctx.env, ctx.registry, unseen, nowMs)
    if (answer.notification === null && ctx.store.order.get() === null) {
      return { status: 'pending', query: answer.summary, refunds: [] }
    }
  }
  const conflict = ctx.store.transaction(() => {
    const current = ctx.store.order.ensure(order, isoNow(nowMs))
    const refused = combinedPayment === undefined ? null : noteNamedCombine(ctx.store, current, combinedPayment)
    if (refused !== null) return refused
    // A payment found now is forwarded like a notified one: the object needs the target too.
    saveForwardTarget(isoNow(nowMs))
    ctx.store.reconciliation.ensure(nowMs + DEFAULT_ORDER_LIFETIME_MS)
    return null
  })
  if (conflict !== null) return { status: ctx.store.order.get()!.status, query: 'not asked', refunds: [], conflict }
  const query = await reconciler.run(ctx, nowMs, { force: true, ...(answer === undefined ? {} : { answer, asked }) })
  // After the order query: a refund of a payment it just found applies at once.
  const refundResults = await refunds.run(ctx, Date.now(), { force: true })
  await ctx.store.setAlarm(Date.now())
  return {
    status: ctx.store.order.get()!.status,
    query: ctx.store.reconciliation.get()?.lastResult ?? query.summary,
    refunds: refundResults,
  }
}
