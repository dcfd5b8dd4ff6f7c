/**
 * @module Sends the monitor's operational webhooks: oldest first, one attempt at a time, each freshly signed with the
 * same `webhook-id`, retried on the merchant deliveries' own schedule (`delivery/schedule.ts`), then kept as failed.
 */
import { ATTEMPT_LEASE_MS, ATTEMPTS_PER_RUN, attemptDelivery, retryError } from '../delivery/attempt'
import { nextRetryAt } from '../delivery/schedule'
import { signWebhook } from '../delivery/sign'
import { log } from '../lib/log'
import type { MonitorStore } from '../storage/monitor'
import type { OpsTarget } from './target'

/** Without an ops endpoint (unset, or half set during a deploy), a pending event waits this long between looks... */
const UNCONFIGURED_RETRY_MS = 3600_000
/** ...and fails once it has waited this long since it was queued, as a retry schedule would have ended. */
const UNCONFIGURED_KEPT_MS = 24 * 3600_000

export interface OpsDrainContext {
  merchantId: string
  /** Null when no ops endpoint is configured (any longer): pending events wait for one, for a day, then fail. */
  target: OpsTarget | null
  now?: () => number
  random?: () => number
}

/** Sends what is due; returns when the next pending event is due (epoch ms), or null when none is pending. */
export async function drainOpsEvents(store: MonitorStore, context: OpsDrainContext): Promise<number | null> {
  const clock = context.now ?? Date.now
  const random = context.random ?? Math.random
  for (let i = 0; i < ATTEMPTS_PER_RUN; i++) {
    const head = store.headOfLine()
    if (head === null) return null
    const startedAt = clock()
    if (head.nextAttemptAt !== null && head.nextAttemptAt > startedAt) return head.nextAttemptAt
    if (head.leaseUntil !== null && head.leaseUntil > startedAt) return head.leaseUntil
    const { target } = context
    if (target === null) {
      const givenUp = Date.parse(head.createdAt) + UNCONFIGURED_KEPT_MS <= startedAt
      const nextAttemptAt = givenUp ? null : startedAt + UNCONFIGURED_RETRY_MS
      store.updateOpsEvent(
        head.id,
        { ...head, status: givenUp ? 'failed' : 'pending', nextAttemptAt, lastError: 'no ops webhook configured' },
        startedAt,
      )
      continue
    }
    store.lease(head.id, startedAt + ATTEMPT_LEASE_MS)
    const headers = await signWebhook({ id: head.id, timestamp: Math.floor(startedAt / 1000), body: head.body, secrets: [target.secret] })
    const result = await attemptDelivery({ url: target.url, body: head.body, headers, now: clock })
    const finishedAt = clock()
    const attempts = head.attempts + 1
    const retryAt =
      result.kind === 'delivered' ? null : nextRetryAt({ attemptsMade: attempts, failure: result, random, startedAt, finishedAt })
    const status = result.kind === 'delivered' ? 'delivered' : retryAt === null || result.kind === 'gone' ? 'failed' : 'pending'
    store.updateOpsEvent(
      head.id,
      {
        status,
        attempts,
        nextAttemptAt: status === 'pending' ? retryAt : null,
        lastStatusCode: result.statusCode,
        lastError: result.kind === 'retry' ? retryError(result) : result.kind === 'gone' ? 'gone (410)' : null,
      },
      finishedAt,
    )
    log(status === 'delivered' ? 'info' : 'warn', {
      event: 'ops.attempt',
      merchant_id: context.merchantId,
      event_id: head.id,
      type: head.type,
      outcome: status,
      attempt: attempts,
      status_code: result.statusCode,
      duration_ms: result.latencyMs,
    })
  }
  return store.headOfLine()?.nextAttemptAt ?? null
}
