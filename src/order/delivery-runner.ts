/**
 * @module Drains one order's outbox: the oldest pending delivery first (events reach the merchant
 * in the order they happened), one attempt at a time, each freshly signed with the same
 * `webhook-id`, each recorded. Called from the order object's alarm, which fires at least once:
 * every step re-reads the row it acts on, so running it twice does no harm.
 */
import { ATTEMPT_LEASE_MS, ATTEMPTS_PER_RUN, attemptDelivery, retryError, type AttemptResult } from '../delivery/attempt'
import { outboundUrlProblem } from '../lib/outbound-url'
import { nextRetryAt } from '../delivery/schedule'
import { signWebhook } from '../delivery/sign'
import { isoNow } from '../lib/ids'
import { log } from '../lib/log'
import { inFlight, type DeliveryRow, type FailureReason, type ForwardTargetRow, type OrderStore } from '../storage/order'

export interface DeliveryContext {
  /** Whose deliveries these are, for the log: the merchant, and the order (none for a subject object's). */
  owner: DeliveryOwner
  openSecrets(target: ForwardTargetRow): Promise<string[]>
  allowLoopback: boolean
  random?: () => number
  now?: () => number
  /** One attempt's time limit; the production default (15 s) unless a caller needs a shorter one. */
  attemptTimeoutMs?: number
  /** Stores the merchant's current forward settings: before each attempt after a run's first. */
  refreshTarget?: () => Promise<void>
  /** At most this many attempts (the run's whole share, `ATTEMPTS_PER_RUN`, unless a caller drains twice). */
  maxAttempts?: number
}

export interface DeliveryOwner {
  merchantId: string
  outTradeNo: string | null
}

/** One attempt's result, as the merchant's endpoint health (circuit breaker) counts it. */
export interface AttemptReport {
  at: number
  ok: boolean
  /** The delivery's attempt number (1 for its first). */
  number: number
}

export interface DeliveryOutcome {
  /** The forward URL that answered 410 Gone in this run, for the merchant-wide disable. */
  goneUrl: string | null
  /** The URL this run's attempts went to, and how each went. */
  url: string | null
  attempts: AttemptReport[]
  /** Deliveries whose last scheduled attempt failed in this run (for `delivery.exhausted`). */
  exhausted: DeliveryRow[]
  /** How many requests this run made (attempts the breaker does not count included). */
  requests: number
}

export async function deliverHeadOfLine(store: OrderStore, context: DeliveryContext): Promise<DeliveryOutcome> {
  const clock = context.now ?? Date.now
  const random = context.random ?? Math.random
  const outcome: DeliveryOutcome = { goneUrl: null, url: null, attempts: [], exhausted: [], requests: 0 }
  for (let i = 0; i < (context.maxAttempts ?? ATTEMPTS_PER_RUN); i++) {
    let head = store.deliveries.headOfLine()
    if (head === null) return outcome
    if (i > 0 && context.refreshTarget !== undefined) {
      // The merchant's settings as they are now, not as the run found them: an operator may have disabled the
      // endpoint (or moved it) while the last attempt was out.
      await context.refreshTarget()
      head = store.deliveries.headOfLine()
      if (head === null) return outcome
    }
    const startedAt = clock()
    // Another run's attempt is in flight: the object's next alarm covers it.
    if (inFlight(head, startedAt)) return outcome

    const target = store.forwardTarget.get()
    // Not known yet where this merchant's events go: wait (pending) until the next notification,
    // registration or alarm brings the merchant's settings.
    if (target === null) return outcome
    const urlProblem = target.disabledAt !== null ? null : outboundUrlProblem(target.url, { allowLoopback: context.allowLoopback })
    if (target.disabledAt !== null || urlProblem !== null) {
      // Disabled, or a URL the gateway may not call now (e.g. localhost in production): every delivery still to be
      // sent fails without a request, kept for recovery (the ones behind the head would otherwise wait behind it),
      // at once, not when the head's retry falls due: an enable in between must not send them without a recover.
      refuseAll(store, context.owner, target.disabledAt !== null ? 'endpoint_disabled' : 'url_refused', urlProblem, startedAt)
      return outcome
    }
    // Not due yet: the object's next alarm covers it.
    if (head.nextAttemptAt !== null && head.nextAttemptAt > startedAt) return outcome

    store.deliveries.lease(head.id, startedAt + ATTEMPT_LEASE_MS)
    const event = store.events.get(head.eventSeq)
    const headers = await signWebhook({
      id: event.id,
      timestamp: Math.floor(clock() / 1000),
      body: event.body,
      secrets: await context.openSecrets(target),
    })
    const result = await attemptDelivery({ url: target.url, body: event.body, headers, now: clock, timeoutMs: context.attemptTimeoutMs })
    outcome.requests++

    // The row may have changed while we were waiting on the merchant: re-read it.
    const current = store.deliveries.get(head.id)
    const replayed = store.deliveries.takeResend(head.id)
    if (current === null || current.status !== 'pending') continue
    const finishedAt = clock()
    const attemptNumber = current.attempts + 1
    // A 410 from an endpoint the merchant replaced while the attempt was out (an RPC stored newer settings meanwhile)
    // says nothing of the endpoint stored now, nor for the breaker: the delivery stays pending and goes there next.
    const replaced = result.kind === 'gone' && store.forwardTarget.get()?.url !== target.url
    if (!replaced) {
      outcome.url = target.url
      outcome.attempts.push({ at: startedAt, ok: result.kind === 'delivered', number: attemptNumber })
    }
    const change = replaced
      ? // A 410 from the endpoint the merchant has since replaced: the endpoint stored now gets it.
        dueAgainNow(attemptNumber, finishedAt, 410, 'endpoint gone (410), since replaced by the merchant')
      : replayed && result.kind === 'retry'
        ? // A replay asked for while this attempt was out, which failed: it goes now, as it would have.
          dueAgainNow(attemptNumber, finishedAt, result.statusCode, retryError(result))
        : // A delivery sent again (replay, recovery) retries on a schedule of its own from there.
          afterAttempt(result, attemptNumber, attemptNumber - (current.retriesFrom ?? 0), { startedAt, finishedAt }, random)
    // The attempt and its outcome: one write of the event's record.
    store.transaction(() => {
      store.deliveries.recordAttempt({
        deliveryId: head.id,
        number: attemptNumber,
        startedAt: isoNow(startedAt),
        statusCode: result.statusCode,
        latencyMs: result.latencyMs,
        outcome: result.kind,
        error: result.kind === 'retry' ? (result.error ?? null) : null,
        responseSnippet: result.responseSnippet,
      })
      store.deliveries.update(head.id, change, isoNow(finishedAt))
    })
    // The last attempt a retry would have followed is the delivery failing: `failed`, its own error kept beside.
    const exhausted = result.kind === 'retry' && change.status === 'failed'
    logAttempt(context.owner, head, {
      outcome: exhausted ? 'failed' : result.kind,
      attempt: attemptNumber,
      status_code: result.statusCode,
      duration_ms: result.latencyMs,
      reason: attemptReason(result, change, replaced),
      ...(exhausted ? { error: result.error ?? null } : {}),
    })
    if (change.status === 'failed' && change.failureReason === 'retries_exhausted') outcome.exhausted.push(store.deliveries.get(head.id)!)
    if (result.kind === 'gone' && !replaced) {
      // The receiver asked not to be called again: the order's later events wait as failed, for recovery.
      store.forwardTarget.disable(isoNow(finishedAt))
      outcome.goneUrl = target.url
    }
  }
  return outcome
}

/** Every pending delivery not in flight: failed without a request, for `reason`. */
function refuseAll(store: OrderStore, owner: DeliveryOwner, reason: FailureReason, urlProblem: string | null, at: number): void {
  const lastError = urlProblem === null ? 'endpoint disabled' : `forward URL refused: ${urlProblem}`
  for (const delivery of store.deliveries.pending()) {
    if (inFlight(delivery, at)) continue
    // The merchant's last reply, if any, stays on record beside the reason.
    const refused = {
      status: 'failed' as const,
      attempts: delivery.attempts,
      nextAttemptAt: null,
      lastStatusCode: delivery.lastStatusCode,
      lastError,
    }
    store.deliveries.update(delivery.id, { ...refused, failureReason: reason }, isoNow(at))
    logAttempt(owner, delivery, { outcome: 'failed', reason })
  }
}

function logAttempt(
  owner: DeliveryOwner,
  delivery: DeliveryRow,
  fields: { outcome: string; reason: string | null; [field: string]: string | number | null },
): void {
  log(fields.outcome === 'retry' || fields.outcome === 'failed' || fields.outcome === 'gone' ? 'warn' : 'info', {
    event: 'delivery.attempt',
    merchant_id: owner.merchantId,
    out_trade_no: owner.outTradeNo,
    delivery_id: delivery.id,
    event_id: delivery.eventId,
    ...fields,
  })
}

/** Why an attempt did not deliver, for its log line. */
function attemptReason(result: AttemptResult, change: { failureReason: FailureReason | null }, replaced: boolean): string | null {
  if (replaced) return 'endpoint_replaced'
  if (change.failureReason !== null) return change.failureReason
  return result.kind === 'retry' ? (result.error ?? null) : null
}

/** An attempt that does not count against the schedule: due again at once, with a whole retry schedule from there. */
function dueAgainNow(attemptNumber: number, finishedAt: number, lastStatusCode: number | null, lastError: string) {
  return {
    attempts: attemptNumber,
    retriesFrom: attemptNumber,
    lastStatusCode,
    status: 'pending' as const,
    nextAttemptAt: finishedAt,
    lastError,
    failureReason: null,
  }
}

/** The delivery after an attempt (a retry's time: `nextRetryAt`). */
function afterAttempt(
  result: AttemptResult,
  attemptNumber: number,
  scheduledNumber: number,
  attempt: { startedAt: number; finishedAt: number },
  random: () => number,
) {
  const base = { attempts: attemptNumber, lastStatusCode: result.statusCode }
  switch (result.kind) {
    case 'delivered':
      return { ...base, status: 'delivered' as const, nextAttemptAt: null, lastError: null, failureReason: null }
    case 'gone':
      // 410: the merchant says this endpoint is gone for good. Kept as failed, for recovery.
      return {
        ...base,
        status: 'failed' as const,
        nextAttemptAt: null,
        lastError: 'endpoint gone (410)',
        failureReason: 'endpoint_gone' as const,
      }
    case 'retry': {
      const nextAttemptAt = nextRetryAt({ attemptsMade: scheduledNumber, failure: result, random, ...attempt })
      const lastError = retryError(result)
      if (nextAttemptAt === null)
        return { ...base, status: 'failed' as const, nextAttemptAt: null, lastError, failureReason: 'retries_exhausted' as const }
      return { ...base, status: 'pending' as const, nextAttemptAt, lastError, failureReason: null }
    }
    default: {
      const unreachable: never = result
      throw new TypeError(`unknown attempt result ${String(unreachable)}`)
    }
  }
}
