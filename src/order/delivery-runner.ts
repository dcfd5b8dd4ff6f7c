/**
 * @module Drains one order's outbox: the oldest pending delivery first (events reach the merchant
 * in the order they happened), one attempt at a time, each freshly signed with the same
 * `webhook-id`, each recorded. Called from the order object's alarm, which fires at least once:
 * every step re-reads the row it acts on, so running it twice does no harm.
 */
import { attemptDelivery, type AttemptResult } from '../delivery/attempt'
import { outboundUrlProblem } from '../lib/outbound-url'
import { nextRetryDelayMs } from '../delivery/schedule'
import { signWebhook } from '../delivery/sign'
import { isoNow } from '../lib/ids'
import type { ForwardTargetRow, OrderStore } from '../storage/order'

/** At most this many attempts per alarm run, so one run stays well inside the alarm's wall time. */
const ATTEMPTS_PER_RUN = 10
/** Longer than one attempt can take (15 s timeout): a crashed run's lease lapses and it is retried. */
const LEASE_MS = 60_000

export interface DeliveryContext {
  openSecrets(target: ForwardTargetRow): Promise<string[]>
  allowLoopback: boolean
  random?: () => number
  now?: () => number
  /** One attempt's time limit; the production default (15 s) unless a caller needs a shorter one. */
  attemptTimeoutMs?: number
}

export interface DeliveryOutcome {
  /** The forward URL that answered 410 Gone in this run, for the merchant-wide disable. */
  goneUrl: string | null
}

export async function deliverHeadOfLine(store: OrderStore, context: DeliveryContext): Promise<DeliveryOutcome> {
  const clock = context.now ?? Date.now
  const random = context.random ?? Math.random
  let goneUrl: string | null = null
  for (let i = 0; i < ATTEMPTS_PER_RUN; i++) {
    const head = store.deliveries.headOfLine()
    if (head === null) return { goneUrl }
    const startedAt = clock()
    // Not due yet, or another run's attempt is in flight: the object's next alarm covers it.
    if (head.nextAttemptAt !== null && head.nextAttemptAt > startedAt) return { goneUrl }
    if (head.leaseUntil !== null && head.leaseUntil > startedAt) return { goneUrl }

    const target = store.forwardTarget.get()
    // Not known yet where this merchant's events go: wait (pending) until the next notification,
    // registration or alarm brings the merchant's settings.
    if (target === null) return { goneUrl }
    const problem =
      target.disabledAt !== null
        ? 'endpoint disabled after 410 Gone; save the merchant again to re-enable it'
        : outboundUrlProblem(target.url, { allowLoopback: context.allowLoopback })
    if (problem !== null) {
      // A URL the gateway may not call now (e.g. localhost in production) fails without a request.
      const refused = {
        status: 'failed' as const,
        attempts: head.attempts,
        nextAttemptAt: null,
        lastStatusCode: null,
        lastError: `forward URL refused: ${problem}`,
      }
      store.deliveries.update(head.id, refused, isoNow(startedAt))
      continue
    }

    store.deliveries.lease(head.id, startedAt + LEASE_MS)
    const event = store.events.get(head.eventSeq)
    const headers = await signWebhook({
      id: event.id,
      timestamp: Math.floor(clock() / 1000),
      body: event.body,
      secrets: await context.openSecrets(target),
    })
    const result = await attemptDelivery({ url: target.url, body: event.body, headers, now: clock, timeoutMs: context.attemptTimeoutMs })

    // The row may have changed while we were waiting on the merchant (an admin replay): re-read it.
    const current = store.deliveries.get(head.id)
    if (current === null || current.status !== 'pending') continue
    const finishedAt = clock()
    const attemptNumber = current.attempts + 1
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
    store.deliveries.update(head.id, afterAttempt(result, attemptNumber, finishedAt, random), isoNow(finishedAt))
    if (result.kind === 'gone') {
      // The receiver asked not to be called again: the order's later events wait as failed, for replay.
      store.forwardTarget.disable(isoNow(finishedAt))
      goneUrl = target.url
    }
  }
  return { goneUrl }
}

function afterAttempt(result: AttemptResult, attemptNumber: number, now: number, random: () => number) {
  const base = { attempts: attemptNumber, lastStatusCode: result.statusCode }
  switch (result.kind) {
    case 'delivered':
      return { ...base, status: 'delivered' as const, nextAttemptAt: null, lastError: null }
    case 'gone':
      // 410: the merchant says this endpoint is gone for good. Kept as failed, for replay.
      return { ...base, status: 'failed' as const, nextAttemptAt: null, lastError: 'endpoint gone (410)' }
    case 'retry': {
      const delay = nextRetryDelayMs({ attemptsMade: attemptNumber, failure: result, random })
      const lastError = result.error ?? `HTTP ${result.statusCode}`
      if (delay === null) return { ...base, status: 'failed' as const, nextAttemptAt: null, lastError }
      return { ...base, status: 'pending' as const, nextAttemptAt: now + delay, lastError }
    }
    default: {
      const unreachable: never = result
      throw new TypeError(`unknown attempt result ${String(unreachable)}`)
    }
  }
}
