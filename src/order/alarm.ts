/**
 * @module The order object's alarm: refresh the forward settings, run a due provider query, drain
 * the outbox, project to D1, then set the next alarm from what storage holds after the last await.
 */
import { errorName, errorSummary, log } from '../lib/log'
import { reportDeliveryRun } from '../ops/monitor'
import { hasRows, markProjected, project, unprojected } from '../storage/projection'
import type { OrderContext } from './context'
import { deliverHeadOfLine } from './delivery-runner'
import { openForwardSecrets, refreshForwardTarget } from './forward-target'
import type { Reconciler } from './reconcile'
import { AWAITING_PAYMENT } from './state-machine'

/** How soon after a D1 failure the projection is tried again. */
const PROJECTION_RETRY_MS = 30_000
/** How soon an alarm whose delivery step failed unexpectedly runs again. */
const DELIVERY_ERROR_RETRY_MS = 60_000

export async function runAlarm(ctx: OrderContext, reconciler: Reconciler): Promise<void> {
  const { env, store, storage } = ctx
  const order = store.order.get()
  if (order === null) return
  await refreshForwardTarget(ctx, order.merchantId)
  // Queries first: a payment they find is delivered in this same run.
  await reconciler.run(ctx, Date.now())
  let deliveryFailed = false
  try {
    const outcome = await deliverHeadOfLine(store, {
      order,
      openSecrets: (target) => openForwardSecrets(env, order.merchantId, target),
      allowLoopback: env.ENVIRONMENT === 'development',
    })
    // The merchant's monitor counts the attempts (circuit breaker), disables the endpoint merchant-wide on a 410
    // (each order object also stops on its own), and tells the ops endpoint about deliveries whose retries ran out.
    await reportDeliveryRun(env, {
      merchantId: order.merchantId,
      url: outcome.url,
      attempts: outcome.attempts,
      goneUrl: outcome.goneUrl,
      exhausted: outcome.exhausted.map((d) => ({
        delivery_id: d.id,
        event_id: d.eventId,
        event_type: d.eventType,
        out_trade_no: order.outTradeNo,
        attempts: d.attempts,
        last_status_code: d.lastStatusCode,
        last_error: d.lastError,
      })),
    })
  } catch (error) {
    // Never lose the alarm over it (e.g. a MASTER_KEY that no longer opens the stored secret).
    log('error', { event: 'delivery.step_failed', merchant_id: order.merchantId, out_trade_no: order.outTradeNo, error: errorName(error) })
    deliveryFailed = true
  }
  let projectionFailed = false
  try {
    const batch = unprojected(store)
    await project(env.DB, batch)
    storage.transactionSync(() => markProjected(store, batch))
  } catch (error) {
    log('warn', { event: 'projection.deferred', merchant_id: order.merchantId, out_trade_no: order.outTradeNo, error: errorSummary(error) })
    projectionFailed = true
  }
  // Computed from storage after the last await: an RPC that ran meanwhile may have added work.
  const next = nextAlarmAt(ctx, Date.now(), { projectionFailed, deliveryFailed })
  if (next !== null) await storage.setAlarm(next)
}

/** When this object next has something to do: a due delivery, a planned query, rows to project. */
function nextAlarmAt(
  { store }: OrderContext,
  now: number,
  failures: { projectionFailed: boolean; deliveryFailed: boolean },
): number | null {
  const head = store.deliveries.headOfLine()
  let deliveryDue: number | null = null
  if (head !== null && store.forwardTarget.get() !== null) {
    deliveryDue = Math.max(now, head.nextAttemptAt ?? now, head.leaseUntil ?? now)
    if (failures.deliveryFailed) deliveryDue = Math.max(deliveryDue, now + DELIVERY_ERROR_RETRY_MS)
  }
  const order = store.order.get()!
  const plan = store.reconciliation.get()
  const queryDue = plan !== null && AWAITING_PAYMENT.has(order.status) ? plan.nextQueryAt : null
  const projectionDue = hasRows(unprojected(store)) ? (failures.projectionFailed ? now + PROJECTION_RETRY_MS : now) : null
  return earliest(earliest(deliveryDue, queryDue), projectionDue)
}

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b
  if (b === null) return a
  return Math.min(a, b)
}
