/**
 * @module The alarms. An order object's: refresh the forward settings, drain the outbox, run a due order query and due
 * refund queries, deliver what they found, compute the next alarm from what storage then holds (with nothing left to
 * do, the retention date), hand the object's state to the projection queue, only then set that alarm, and compact the
 * object when its retention date has come. A subject object's: the same without queries.
 *
 * The hand-off is at least once without marks in storage: every state change sets the alarm (durable), an alarm run
 * that could not hand off sets the next one, and a run moves its alarm on only once the queue took the state (a run
 * cut short by a reset comes back); a run after a restart sends the state again (the consumer ignores what it already
 * has).
 */
import { ATTEMPTS_PER_RUN } from '../delivery/attempt'
import { errorName, errorSummary, log } from '../lib/log'
import { reportDeliveryRun } from '../ops/monitor'
import { enqueueProjection, laggingRecords, objectRecord } from '../storage/projection'
import type { OrderContext } from './context'
import { deliverHeadOfLine } from './delivery-runner'
import { openForwardSecrets, refreshForwardTarget } from './forward-target'
import { awaitsQuery } from './ingest'
import type { Reconciler } from './reconcile'
import type { RefundReconciler } from './refund-reconcile'
import { compactionDueAt, compactObject } from './retention'
import { allowsLoopback } from '../lib/outbound-url'

/** How soon after the projection queue refused a hand-off it is tried again. */
const PROJECTION_RETRY_MS = 30_000
/** How soon an alarm whose delivery step failed unexpectedly runs again. */
const DELIVERY_ERROR_RETRY_MS = 60_000
/** A retry due within this long goes before the provider queries (the schedule's first two come 5 s and 30 s apart). */
const QUERIES_WAIT_FOR_RETRY_MS = 60_000

/**
 * Runs an alarm with `projection.alarmRunning` set. While it runs, `getAlarm()` answers null, yet the run may still owe
 * the hand-off its alarm stands for: an RPC that dates the object then (the retention walk) leaves it to the run.
 */
async function asAlarmRun(ctx: OrderContext, run: () => Promise<void>): Promise<void> {
  ctx.projection.alarmRunning = true
  try {
    await run()
  } finally {
    ctx.projection.alarmRunning = false
  }
}

export function runAlarm(ctx: OrderContext, reconciler: Reconciler, refunds: RefundReconciler): Promise<void> {
  return asAlarmRun(ctx, async () => {
    const order = ctx.store.order.get()
    if (order === null) return
    await refreshForwardTarget(ctx, order.merchantId)
    // The outbox first, and the queries only in a run with no retry due within the minute: a slow provider (up to
    // 10 s a query, several a run) must not hold back the first retries (contract: the first within 10 s of the
    // failed attempt, the second within a minute of it). Queries are planned minutes apart; they wait for such a run.
    const drained = await deliver(ctx, order.merchantId, ATTEMPTS_PER_RUN)
    // (Not for a delivery step that fails by itself, such as a secret that no longer opens: the queries would never run.)
    const deliveryDue = nextDeliveryAt(ctx, Date.now())
    const queriesWait = !drained.failed && deliveryDue !== null && deliveryDue < Date.now() + QUERIES_WAIT_FOR_RETRY_MS
    const deliveryFailed = queriesWait ? false : await queryThenDeliver(ctx, order.merchantId, reconciler, refunds, drained)
    // Computed from storage after the last await before the hand-off (an RPC that ran meanwhile may have added work; one
    // during the hand-off, or later, sets its own alarm). Queries that waited are asked by the retry's run.
    const now = Date.now()
    const plan = ctx.store.reconciliation.get()
    const queryDue = !queriesWait && plan !== null && awaitsQuery(ctx.store) ? plan.nextQueryAt : null
    const refundQueryDue = queriesWait ? null : ctx.store.refunds.nextQueryAt()
    const next = earliest(earliest(outboxDueAt(ctx, now, deliveryFailed), queryDue), refundQueryDue)
    await handOffThenRetain(ctx, order.merchantId, next, now)
  })
}

/**
 * Runs the due queries, then delivers what they found (or an RPC stored meanwhile) in the same run, within the run's
 * attempts left after the first drain, and to the endpoint as it is now, read past the cache: the first drain's
 * report may have tripped the breaker. Returns whether a delivery step failed unexpectedly.
 */
async function queryThenDeliver(
  ctx: OrderContext,
  merchantId: string,
  reconciler: Reconciler,
  refunds: RefundReconciler,
  drained: Drained,
): Promise<boolean> {
  const writtenBefore = ctx.store.written().rows
  await reconciler.run(ctx, Date.now())
  await refunds.run(ctx, Date.now())
  const attemptsLeft = ATTEMPTS_PER_RUN - drained.requests
  const changed = ctx.store.written().rows !== writtenBefore && ctx.store.deliveries.headOfLine() !== null
  if (drained.failed || attemptsLeft <= 0 || !changed) return drained.failed
  await refreshForwardTarget(ctx, merchantId, { fresh: true })
  return (await deliver(ctx, merchantId, attemptsLeft)).failed
}

export function runSubjectAlarm(ctx: OrderContext): Promise<void> {
  return asAlarmRun(ctx, async () => {
    const subject = ctx.store.subject.get()
    if (subject === null) return
    await refreshForwardTarget(ctx, subject.merchantId)
    const deliveryFailed = (await deliver(ctx, subject.merchantId, ATTEMPTS_PER_RUN)).failed
    const now = Date.now()
    await handOffThenRetain(ctx, subject.merchantId, outboxDueAt(ctx, now, deliveryFailed), now)
  })
}

/**
 * Hands the state on and sets the next alarm: `next`, or with nothing left to do (`next` null) the date the object is
 * old enough to keep only its tombstone; when that date has come, compacts it.
 */
async function handOffThenRetain(ctx: OrderContext, merchantId: string, next: number | null, now: number): Promise<void> {
  const compactionDue = next === null ? compactionDueAt(ctx) : null
  const wake = earliest(next, compactionDue !== null && compactionDue > now ? compactionDue : null)
  if (!(await handOffThenWake(ctx, merchantId, wake))) return
  if (compactionDue === null || compactionDue > now) return
  // Due now, and nothing came in during the awaits (the state handed off is still the state): D1 has all of it, so
  // the tombstone loses nothing there. (Checked only then: the record is rebuilt and serialized for the comparison.)
  const dueNow = compactionDueAt(ctx)
  if (dueNow !== null && dueNow <= now && ctx.projection.lastSent === JSON.stringify(objectRecord(ctx.store))) {
    compactObject(ctx, now)
    return
  }
  // Otherwise a newcomer's own alarm comes back to it, but a duplicate sets none while this one runs: its entry goes at
  // its own retention date.
  if (dueNow !== null && dueNow > now) {
    const alarm = await ctx.storage.getAlarm()
    if (alarm === null || alarm > dueNow) await ctx.store.setAlarm(dueNow)
  }
}

/** A drain of the outbox: whether the step failed unexpectedly (it only delays the deliveries), and the requests made. */
interface Drained {
  failed: boolean
  requests: number
}

/** Drains the outbox, with at most `maxAttempts` attempts. */
async function deliver(ctx: OrderContext, merchantId: string, maxAttempts: number): Promise<Drained> {
  const { env, store } = ctx
  // A subject object's deliveries belong to no order.
  const outTradeNo = store.order.get()?.outTradeNo ?? null
  try {
    const outcome = await deliverHeadOfLine(store, {
      owner: { merchantId, outTradeNo },
      openSecrets: (target) => openForwardSecrets(env, merchantId, target),
      allowLoopback: allowsLoopback(env),
      refreshTarget: () => refreshForwardTarget(ctx, merchantId),
      maxAttempts,
    })
    // Deliveries whose retries ran out in an earlier run (or drain), when the monitor could not be told then, are told
    // now, as they were then: the same exhaustion is the same event (its id names the attempt count).
    // (A head kept by an earlier version names the delivery alone, read as it now is: one this drain exhausted again.)
    const fresh = outcome.exhausted
    const untold = store.exhaustedUntold().filter((u) => !fresh.some((d) => d.id === u.id && d.attempts === u.attempts))
    const exhausted = [...untold, ...fresh]
    // The merchant's monitor hears of failures here (circuit breaker, a 410 disables the endpoint merchant-wide,
    // deliveries whose retries ran out), and of a success that ends an order's failures; plain successes reach it
    // from the projection consumer, once per batch, so a busy merchant's monitor is not called per delivery.
    const notable = outcome.attempts.some((a) => !a.ok || a.number > 1) || exhausted.length > 0 || outcome.goneUrl !== null
    if (notable) {
      const told = await reportDeliveryRun(env, {
        merchantId,
        url: outcome.url,
        attempts: outcome.attempts.map(({ at, ok }) => ({ at, ok })),
        goneUrl: outcome.goneUrl,
        exhausted: exhausted.map((d) => ({
          delivery_id: d.id,
          event_id: d.eventId,
          event_type: d.eventType,
          out_trade_no: outTradeNo,
          attempts: d.attempts,
          last_status_code: d.lastStatusCode,
          last_error: d.lastError,
        })),
      })
      // An alert must not be lost with the monitor out of reach: kept, and told by a later run (DELIVERY_ERROR_RETRY_MS).
      store.keepExhaustedUntold(told ? [] : exhausted)
    }
    return { failed: false, requests: outcome.requests }
  } catch (error) {
    // Never lose the alarm over it (e.g. a MASTER_KEY that no longer opens the stored secret).
    log('error', { event: 'delivery.step_failed', merchant_id: merchantId, out_trade_no: outTradeNo, error: errorName(error) })
    return { failed: true, requests: 0 }
  }
}

/**
 * Hands the object's state to the projection queue unless this instance already did, then sets the next alarm: `wake`
 * (none when null), or within 30 s when the queue refused. Set only after the queue took the state: until then the
 * alarm running now stays stored (alarms run at least once), so a reset (a crash, a deploy) before the queue's accept
 * runs it again and hands the state on; the retention date set before the hand-off would leave D1 behind for good. An
 * RPC that ran during the hand-off and set the alarm for its own work keeps it when it is sooner. False when the queue
 * refused.
 */
async function handOffThenWake(ctx: OrderContext, merchantId: string, wake: number | null): Promise<boolean> {
  const alarmsBefore = ctx.store.written().alarms
  const handedOff = await handOff(ctx, merchantId)
  const next = handedOff ? wake : earliest(wake, Date.now() + PROJECTION_RETRY_MS)
  const meanwhile = ctx.store.written().alarms !== alarmsBefore ? await ctx.storage.getAlarm() : null
  if (next !== null && (meanwhile === null || next < meanwhile)) await ctx.store.setAlarm(next)
  return handedOff
}

/** Hands the object's state to the projection queue unless this instance already did; false when the queue refused. */
async function handOff(ctx: OrderContext, merchantId: string): Promise<boolean> {
  try {
    const record = objectRecord(ctx.store)
    const state = JSON.stringify(record)
    // Read now, with the record: what changes during the sends is handed on by the next run.
    const lagging = laggingRecords(ctx.store, record, ctx.projection.handedOn)
    const further = lagging?.records ?? []
    if (state !== ctx.projection.lastSent || further.length > 0) {
      // One at a time: a batch of records near the size limit each would pass the queue's limit for a batch.
      for (const each of [record, ...further]) await enqueueProjection(ctx.env, [each])
      ctx.projection.lastSent = state
      ctx.projection.handedOn = lagging?.handedOn ?? null
    }
    return true
  } catch (error) {
    const outTradeNo = ctx.store.order.get()?.outTradeNo ?? null
    log('warn', { event: 'projection.deferred', merchant_id: merchantId, out_trade_no: outTradeNo, error: errorSummary(error) })
    return false
  }
}

/** When the next delivery is due (`now` at the soonest), or null: none, or nowhere known to send it yet. */
function nextDeliveryAt({ store }: OrderContext, now: number): number | null {
  const head = store.deliveries.headOfLine()
  if (head === null || store.forwardTarget.get() === null) return null
  return Math.max(now, head.nextAttemptAt ?? now, head.leaseUntil ?? now)
}

/** When the outbox next has something to do (a delivery, or telling the monitor of exhausted ones). */
function outboxDueAt(ctx: OrderContext, now: number, deliveryFailed: boolean): number | null {
  const due = nextDeliveryAt(ctx, now)
  const deliveryDue = due !== null && deliveryFailed ? Math.max(due, now + DELIVERY_ERROR_RETRY_MS) : due
  return ctx.store.exhaustedUntold().length > 0 ? earliest(deliveryDue, now + DELIVERY_ERROR_RETRY_MS) : deliveryDue
}

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b
  if (b === null) return a
  return Math.min(a, b)
}
