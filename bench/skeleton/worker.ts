/**
 * @module The skeleton of `npm run bench` (issue #7, part 3a): paygate's storage work and nothing else, as the
 * ceiling of this runtime on this machine. The same Durable Object per order, reached the same way, writing the
 * same rows through the same `OrderStore` statements in one `transactionSync`; the same alarm delivering to the
 * merchant and projecting to D1 with the same statements. Left out is everything that is paygate's own logic:
 * no body parsing (the order and notification ids come from `x-bench-*` headers), no signature checks, no
 * decryption, no merchant lookup, no sealing or webhook signing.
 */
import { DurableObject } from 'cloudflare:workers'
import { isoNow, newId } from '../../src/lib/ids'
import type { OrderRef } from '../../src/order/order-key'
import type { ChannelName } from '../../src/providers'
import { migrateOrderSchema, OrderStore } from '../../src/storage/order'
import { applyToShard, objectRecord } from '../../src/storage/projection'
import { readBenchRequest } from '../lib/bench-request'

interface SkeletonEnv {
  ORDERS: DurableObjectNamespace<SkeletonOrder>
  DB: D1Database
  /** Where the alarm delivers events: the benchmark's merchant listener. */
  FORWARD_URL: string
}

interface SkeletonIngest {
  order: OrderRef
  channel: ChannelName
  notificationId: string
  /** The notification body as text: stored in the event, as paygate stores the verified fields. */
  body: string
  receivedAt: number
}

export default {
  async fetch(request, env): Promise<Response> {
    const read = readBenchRequest(request)
    if (read instanceof Response) return read
    const { adapter, order, objectName, notificationId } = read
    const receivedAt = Date.now()
    const body = await request.text()
    try {
      await env.ORDERS.getByName(objectName).ingest({ order, channel: adapter.channel, notificationId, body, receivedAt })
    } catch {
      return new Response('storage unavailable', { status: 503 })
    }
    return adapter.accept()
  },
} satisfies ExportedHandler<SkeletonEnv>

export class SkeletonOrder extends DurableObject<SkeletonEnv> {
  private readonly store: OrderStore

  constructor(ctx: DurableObjectState, env: SkeletonEnv) {
    super(ctx, env)
    migrateOrderSchema(ctx.storage)
    this.store = new OrderStore(ctx.storage, { kind: 'order', objectId: ctx.id.toString() })
  }

  /** paygate's ingest transaction, record for record: the head (order, forward target, accepted audit) and the event with its delivery. */
  async ingest(request: SkeletonIngest): Promise<'accepted' | 'duplicate'> {
    const nowMs = Date.now()
    const now = isoNow(nowMs)
    const verdict = this.store.transaction(() => {
      const order = this.store.order.ensure(request.order, now)
      if (this.store.forwardTarget.get() === null) {
        this.store.forwardTarget.save(
          { url: this.env.FORWARD_URL, sealedSecret: '-', sealedPreviousSecret: null, merchantVersion: 1, disabledAt: null },
          now,
        )
      }
      const audit = (verdict: 'accepted' | 'duplicate') =>
        this.store.notifications.record({
          id: newId('ntf'),
          channel: request.channel,
          providerNotificationId: request.notificationId,
          receivedAt: isoNow(request.receivedAt),
          verdict,
          reason: null,
          source: 'notify',
        })
      if (this.store.notifications.hasSeen(request.notificationId)) {
        audit('duplicate')
        return 'duplicate' as const
      }
      audit('accepted')
      this.store.order.save(
        { ...order, status: 'paid', amount: 0, currency: 'CNY', transactionId: request.notificationId, paidAt: now },
        now,
      )
      const id = newId('evt')
      const event = {
        type: 'payment.succeeded',
        timestamp: now,
        data: { merchant_id: request.order.merchantId, out_trade_no: request.order.outTradeNo, raw: request.body },
      }
      const seq = this.store.events.add({
        id,
        type: 'payment.succeeded',
        channel: request.channel,
        body: JSON.stringify(event),
        createdAt: now,
      })
      this.store.deliveries.add(this.store.newDeliveryId(), seq, nowMs, now)
      return 'accepted' as const
    })
    if (verdict === 'accepted') await this.ctx.storage.setAlarm(nowMs)
    return verdict
  }

  /** paygate's alarm without the crypto: deliver the outbox head of line, record the attempt, project to D1. */
  override async alarm(): Promise<void> {
    const order = this.store.order.get()
    const target = this.store.forwardTarget.get()
    if (order === null || target === null) return
    for (let head = this.store.deliveries.headOfLine(); head !== null; head = this.store.deliveries.headOfLine()) {
      const startedAt = Date.now()
      this.store.deliveries.lease(head.id, startedAt + 60_000)
      const event = this.store.events.get(head.eventSeq)
      let statusCode: number | null = null
      let snippet = ''
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': event.id,
            'webhook-timestamp': String(Math.floor(startedAt / 1000)),
          },
          body: event.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(15_000),
        })
        statusCode = response.status
        snippet = (await response.text()).slice(0, 1024)
      } catch {
        statusCode = null
      }
      const finishedAt = Date.now()
      const delivered = statusCode !== null && statusCode >= 200 && statusCode < 300
      this.store.transaction(() => {
        this.store.deliveries.recordAttempt({
          deliveryId: head.id,
          number: head.attempts + 1,
          startedAt: isoNow(startedAt),
          statusCode,
          latencyMs: finishedAt - startedAt,
          outcome: delivered ? 'delivered' : 'retry',
          error: delivered ? null : 'not delivered',
          responseSnippet: snippet,
        })
        this.store.deliveries.update(
          head.id,
          delivered
            ? { status: 'delivered', attempts: head.attempts + 1, nextAttemptAt: null, lastStatusCode: statusCode, lastError: null }
            : {
                status: 'failed',
                attempts: head.attempts + 1,
                nextAttemptAt: null,
                lastStatusCode: statusCode,
                lastError: 'not delivered',
              },
          isoNow(finishedAt),
        )
      })
    }
    // paygate hands this record to its projection queue, whose consumer writes batches; the skeleton has no queue
    // and writes it directly, one D1 transaction per alarm (more D1 work per notification than paygate does now).
    try {
      await applyToShard(this.env.DB, [objectRecord(this.store)])
    } catch {
      await this.ctx.storage.setAlarm(Date.now() + 30_000)
    }
  }
}
