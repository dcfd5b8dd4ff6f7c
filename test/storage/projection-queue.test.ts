/**
 * Issue 16: the projection through the queue, through the real Worker's queue handler. A D1 outage or a consumer
 * failure retries the messages and loses nothing; a batch replayed changes nothing; merchants' rows land in their own
 * shard; an order object writes few rows; a compacted order still dedupes a late duplicate and applies a late refund
 * once.
 */
import {
  applyD1Migrations,
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import worker from '../../src/index'
import { capturedLines } from '../support/console-capture'
import { http, HttpResponse } from 'msw'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import type { ProjectionDeadLetters } from '../../src/ops/dead-letters'
import type { OrderObject } from '../../src/order/order-object'
import { assignShard } from '../../src/storage/shards'
import { objectRecord, type ProjectionRecord } from '../../src/storage/projection'
import { OrderStore, type OrderRef } from '../../src/storage/order'
import { network } from '../msw'
import { consumeProjection } from '../support/projection-queue'
import { v3RefundNotify } from '../support/refunds'
import { admin, callWorker, forwardUrl, freshPayment, notify, ownKeys, registerMerchant, unavailableD1 } from '../security/harness'
import {
  deliveryRows,
  FORWARD,
  inOrderStore,
  makeDeliveriesDue,
  objectStore,
  PROJECTION_WAIT,
  paymentNotification,
  refundNotification,
  SETTINGS,
  stubFor,
  uniqueOrder,
} from '../support/orders'
import { setInstanceEnv } from '../support/instance-env'

beforeAll(async () => {
  await applyD1Migrations(env.DB_SHARD_1, env.TEST_MIGRATIONS)
})

/** A paid, delivered order, and its object's record for D1 (what its alarm put on the queue). */
async function deliveredOrder(merchantId = 'queue-acme'): Promise<{ order: OrderRef; record: ProjectionRecord }> {
  network.use(http.post(FORWARD.url, () => HttpResponse.text('ok')))
  const order = { ...uniqueOrder('Q'), merchantId }
  await stubFor(order).ingest({
    order,
    notification: paymentNotification(order),
    settings: SETTINGS,
    receivedAt: Date.now(),
    source: 'notify',
  })
  await runDurableObjectAlarm(stubFor(order))
  const record = await inOrderStore(order, (store) => objectRecord(store))
  return { order, record }
}

/**
 * Makes the object's queue take `wait` ms to accept each record, calling `onSend` as each send starts: while it has not
 * answered, the object's alarm run is in its hand-off.
 */
function slowQueue(stub: DurableObjectStub<OrderObject>, onSend: () => void, wait = 1_000): Promise<void> {
  const send = async (record: ProjectionRecord, options?: QueueSendOptions): Promise<void> => {
    onSend()
    await scheduler.wait(wait)
    await env.PROJECTION.send(record, options)
  }
  return setInstanceEnv(stub, { ...env, PROJECTION: { send } as unknown as Queue })
}

const orderRow = (db: D1Database, order: OrderRef) =>
  db
    .prepare('SELECT status, version, accepted_notifications FROM orders WHERE merchant_id = ? AND out_trade_no = ?')
    .bind(order.merchantId, order.outTradeNo)
    .first()
const statsOf = (db: D1Database, merchantId: string) =>
  db
    .prepare('SELECT sum(accepted) AS accepted, sum(delivered) AS delivered FROM merchant_stats WHERE merchant_id = ?')
    .bind(merchantId)
    .first()

describe('the projection queue', () => {
  it('a D1 outage retries every message and writes nothing; when D1 is back the same messages land, once', async () => {
    const merchantId = 'queue-outage'
    const { order, record } = await deliveredOrder(merchantId)
    // The real queue has already delivered it; start from a shard that has not seen it.
    await env.DB.prepare('DELETE FROM orders WHERE merchant_id = ?').bind(merchantId).run()
    await env.DB.prepare('DELETE FROM deliveries WHERE merchant_id = ?').bind(merchantId).run()
    await env.DB.prepare('DELETE FROM merchant_stats WHERE merchant_id = ?').bind(merchantId).run()

    const down = await consumeProjection([record], { DB: unavailableD1().db })
    expect(down.explicitAcks).toEqual([])
    expect(down.retryMessages).toHaveLength(1)
    expect(await orderRow(env.DB, order)).toBeNull()

    const up = await consumeProjection([record])
    expect(up.retryMessages).toEqual([])
    expect(up.explicitAcks).toHaveLength(1)
    expect(await orderRow(env.DB, order)).toEqual({ status: 'paid', version: 2, accepted_notifications: 1 })
    expect(await statsOf(env.DB, merchantId)).toEqual({ accepted: 1, delivered: 1 })

    // The same batch again (a redelivery, a re-drive): nothing changes, nothing is counted twice.
    const again = await consumeProjection([record, record])
    expect(again.retryMessages).toEqual([])
    expect(await orderRow(env.DB, order)).toEqual({ status: 'paid', version: 2, accepted_notifications: 1 })
    expect(await statsOf(env.DB, merchantId)).toEqual({ accepted: 1, delivered: 1 })
    const deliveries = await env.DB.prepare('SELECT status, attempts FROM deliveries WHERE merchant_id = ?').bind(merchantId).all()
    expect(deliveries.results).toEqual([{ status: 'delivered', attempts: 1 }])
  })

  it('an older state arriving after a newer one changes nothing', async () => {
    const { order, record } = await deliveredOrder('queue-order')
    const older = {
      ...record,
      order: record.kind === 'object' && record.order ? { ...record.order, status: 'pending' as const, version: 1 } : null,
    }
    await consumeProjection([record])
    await consumeProjection([older as ProjectionRecord])
    expect(await orderRow(env.DB, order)).toMatchObject({ status: 'paid', version: 2 })
  })

  it('a consumer that cannot read the shard map retries the batch; parked records are re-driven by the admin API', async () => {
    const { order, record } = await deliveredOrder('queue-map')
    const broken = await consumeProjection([record], { D1_SHARDS: 'DB,DB_SHARD_1', DB: unavailableD1().db } satisfies Partial<Env>)
    expect(broken.retryMessages).toHaveLength(1)
    // Out of retries: the dead-letter consumer parks it; an operator sends it again.
    const parked = createMessageBatch<ProjectionRecord>('paygate-projection-dead', [
      { id: 'dead-1', timestamp: new Date(), attempts: 1, body: record },
    ])
    const ctx = createExecutionContext()
    await worker.queue!(parked as MessageBatch, env, ctx)
    expect((await getQueueResult(parked, ctx)).ackAll).toBe(true)
    const status = () =>
      callWorker(new Request('https://gw.test/admin/projection', { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }), {}).then(
        (r) => r.json(),
      )
    // An operator sees it parked, without sending anything.
    expect(await status()).toEqual({ parked: 1, oldest_parked_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) })
    expect(await status()).toMatchObject({ parked: 1 })
    const redrive = await callWorker(
      new Request('https://gw.test/admin/projection/redrive', {
        method: 'POST',
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: '{}',
      }),
      {},
    )
    expect(await redrive.json()).toEqual({ redriven: 1, remaining: 0 })
    expect(await status()).toEqual({ parked: 0, oldest_parked_at: null })
    await vi.waitFor(async () => expect(await orderRow(env.DB, order)).toMatchObject({ status: 'paid' }), PROJECTION_WAIT)
  })
})

describe('the hand-off to the queue', () => {
  it('a queue that refuses the hand-off delays it: the alarm comes back in 30 s and hands the state on then', async () => {
    network.use(http.post(FORWARD.url, () => HttpResponse.text('ok')))
    const order = { ...uniqueOrder('QDOWN'), merchantId: 'queue-down' }
    const stub = stubFor(order)
    const refusing = {
      send: () => Promise.reject(new Error('Queue send failed')),
      sendBatch: () => Promise.reject(new Error('Queue send failed')),
    }
    await setInstanceEnv(stub, { ...env, PROJECTION: refusing as unknown as Queue })
    await stub.ingest({ order, notification: paymentNotification(order), settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })
    const before = Date.now()
    await runDurableObjectAlarm(stub)
    // Delivered all the same; the projection waits.
    const state = await runInDurableObject(stub, async (_o: OrderObject, objectState) => ({
      alarm: await objectState.storage.getAlarm(),
      delivery: new OrderStore(objectState.storage).deliveries.all()[0]?.status,
    }))
    expect(state.delivery).toBe('delivered')
    expect(state.alarm).toBeGreaterThanOrEqual(before + 29_000)
    expect(await orderRow(env.DB, order)).toBeNull()

    await setInstanceEnv(stub, env)
    await runDurableObjectAlarm(stub)
    await vi.waitFor(async () => expect(await orderRow(env.DB, order)).toMatchObject({ status: 'paid' }), PROJECTION_WAIT)
  })
})

describe('a reset during the hand-off', () => {
  it('until the queue has taken the state, the alarm stays the one running: a reset then runs it again, not in 400 days', async () => {
    network.use(http.post(FORWARD.url, () => HttpResponse.text('ok')))
    const order = { ...uniqueOrder('QRESET'), merchantId: 'queue-reset' }
    const stub = stubFor(order)
    // A slow queue: while it has not answered, storage holds all that a reset (a crash, a deploy) would leave the next
    // instance to go on. The alarm runs as scheduled, on its own: the runtime keeps a running alarm stored until the
    // run ends (getAlarm() shows null meanwhile) and runs it again after a reset, where runDurableObjectAlarm deletes
    // it first. An alarm set during the run replaces it: set to the retention date before the queue took the state,
    // a reset left D1 without the delivery's outcome for good.
    let sending = false
    await slowQueue(stub, () => {
      sending = true
    })
    await stub.ingest({ order, notification: paymentNotification(order), settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })
    await vi.waitFor(() => expect(sending).toBe(true), PROJECTION_WAIT)
    const during = await runInDurableObject(stub, async (_o: OrderObject, state) => {
      await state.storage.sync()
      return { alarm: await state.storage.getAlarm(), delivery: new OrderStore(state.storage).deliveries.all()[0]?.status }
    })
    expect(during).toEqual({ alarm: null, delivery: 'delivered' })
    expect(await orderRow(env.DB, order)).toBeNull()

    await vi.waitFor(async () => expect(await orderRow(env.DB, order)).toMatchObject({ status: 'paid' }), PROJECTION_WAIT)
    // Handed on: then the alarm is the retention date.
    const next = await runInDurableObject(stub, (_o: OrderObject, state) => state.storage.getAlarm())
    expect(next!).toBeGreaterThan(Date.now() + 24 * 60 * 60 * 1000)
  })
})

describe('work that comes in during the hand-off', () => {
  it('keeps its own alarm: a refund stored while the queue takes the payment is delivered and projected too', async () => {
    const forwarded: string[] = []
    network.use(
      http.post(FORWARD.url, async ({ request }) => {
        forwarded.push(((await request.json()) as { type: string }).type)
        return HttpResponse.text('ok')
      }),
    )
    const order = { ...uniqueOrder('QMEANWHILE'), merchantId: 'queue-meanwhile' }
    const stub = stubFor(order)
    let sends = 0
    await slowQueue(stub, () => {
      sends++
    })
    const ingest = (notification: ReturnType<typeof paymentNotification>) =>
      stub.ingest({ order, notification, settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })
    await ingest(paymentNotification(order))
    await vi.waitFor(() => expect(sends).toBe(1), PROJECTION_WAIT)
    // The payment's alarm is handing its state off: the refund arrives now and sets the alarm for itself.
    expect((await ingest(refundNotification(order, 'MEANWHILE-R1', 40))).verdict).toBe('accepted')

    await vi.waitFor(() => expect(forwarded).toEqual(['payment.succeeded', 'refund.succeeded']), PROJECTION_WAIT)
    await vi.waitFor(async () => expect(await orderRow(env.DB, order)).toMatchObject({ status: 'partially_refunded' }), PROJECTION_WAIT)
  })
})

describe('the record handed off', () => {
  it('carries the most recently changed deliveries: an old one changed after 50 newer ones is still in it', async () => {
    const { order } = await deliveredOrder()
    const ids = await inOrderStore(order, (store) => {
      const [first] = store.deliveries.all()
      // 60 later events, each with a delivery, created and last changed before the first delivery changes again.
      for (let i = 0; i < 60; i++) {
        const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()
        store.events.put({
          seq: 1000 + i,
          id: `evt_later_${i}`,
          type: 'payment.succeeded',
          channel: 'wechatpay.v3',
          body: '{}',
          createdAt: at,
          delivery: {
            id: `dlv_later_${i}`,
            status: 'delivered',
            attempts: 1,
            nextAttemptAt: null,
            lastStatusCode: 200,
            lastError: null,
            failureReason: null,
            version: 1,
            createdAt: at,
            updatedAt: at,
            attemptLog: [],
          },
        })
      }
      // An admin replay puts the first delivery back in line.
      store.deliveries.update(
        first!.id,
        { status: 'pending', attempts: first!.attempts, nextAttemptAt: 0, lastStatusCode: null, lastError: null },
        new Date().toISOString(),
      )
      return { first: first!.id, handedOff: objectRecord(store).deliveries.map((d) => d.id) }
    })
    expect(ids.handedOff).toHaveLength(50)
    expect(ids.handedOff).toContain(ids.first)
  })
})

describe('shards', () => {
  it("each merchant's rows land in its own shard, and the admin API reads them there", async () => {
    const twoShards = { D1_SHARDS: 'DB,DB_SHARD_1' } satisfies Partial<Env>
    const shardEnv = { ...env, ...twoShards } as unknown as Env
    const first = await deliveredOrder('shard-a')
    const second = await deliveredOrder('shard-b')
    await env.DB.prepare("DELETE FROM orders WHERE merchant_id IN ('shard-a', 'shard-b')").run()
    // The first merchant goes to the emptier shard, the second to the other.
    const shardA = await assignShard(shardEnv, 'shard-a', new Date().toISOString())
    const shardB = await assignShard(shardEnv, 'shard-b', new Date().toISOString())
    expect(new Set([shardA, shardB])).toEqual(new Set(['DB', 'DB_SHARD_1']))
    await consumeProjection([first.record, second.record], twoShards)
    const db = (name: string) => (name === 'DB' ? env.DB : env.DB_SHARD_1)
    expect(await orderRow(db(shardA), first.order)).toMatchObject({ status: 'paid' })
    expect(await orderRow(db(shardB), first.order)).toBeNull()
    expect(await orderRow(db(shardB), second.order)).toMatchObject({ status: 'paid' })
    expect(await orderRow(db(shardA), second.order)).toBeNull()

    // The admin API reads each merchant's deliveries from its shard.
    for (const [merchantId, { order }] of [
      ['shard-a', first],
      ['shard-b', second],
    ] as const) {
      await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
      const listed = await callWorker(
        new Request(`https://gw.test/admin/merchants/${merchantId}/deliveries`, {
          headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
        }),
        twoShards,
      )
      const { deliveries } = (await listed.json()) as { deliveries: { out_trade_no: string; status: string }[] }
      expect(deliveries.filter((d) => d.out_trade_no === order.outTradeNo)).toEqual([expect.objectContaining({ status: 'delivered' })])
    }
    // The rest of the file runs with D1_SHARDS as shipped (DB alone), where DB_SHARD_1 is refused.
    await env.DB.prepare("DELETE FROM merchant_shards WHERE merchant_id IN ('shard-a', 'shard-b')").run()
  })
})

describe('shard assignment', () => {
  it('a shard taken out of D1_SHARDS is refused, not replaced: its merchants’ records wait, the others land', async () => {
    const merchantId = 'shard-removed'
    const { order, record } = await deliveredOrder(merchantId)
    const healthy = await deliveredOrder('shard-kept')
    await env.DB.prepare("DELETE FROM orders WHERE merchant_id IN ('shard-removed', 'shard-kept')").run()
    await env.DB.prepare('INSERT OR REPLACE INTO merchant_shards (merchant_id, shard, assigned_at) VALUES (?, ?, ?)')
      .bind(merchantId, 'DB_SHARD_1', new Date().toISOString())
      .run()
    // D1_SHARDS as shipped (DB alone) while the map says DB_SHARD_1: retried, written nowhere.
    // In one batch with another merchant's record: that one lands, this one is retried.
    const refused = await consumeProjection([healthy.record, record])
    expect(refused.retryMessages).toHaveLength(1)
    expect(refused.explicitAcks).toHaveLength(1)
    expect(await orderRow(env.DB, healthy.order)).toMatchObject({ status: 'paid' })
    expect(await orderRow(env.DB, order)).toBeNull()
    expect(await orderRow(env.DB_SHARD_1, order)).toBeNull()
    expect(capturedLines.some((line) => line.includes('shard not in D1_SHARDS') && line.includes('shard-removed'))).toBe(true)
    // Listed again: the same record lands on its own shard.
    const listed = await consumeProjection([record], { D1_SHARDS: 'DB,DB_SHARD_1' } satisfies Partial<Env>)
    expect(listed.explicitAcks).toHaveLength(1)
    expect(await orderRow(env.DB_SHARD_1, order)).toMatchObject({ status: 'paid' })
    expect(await orderRow(env.DB, order)).toBeNull()
    await env.DB.prepare('DELETE FROM merchant_shards WHERE merchant_id = ?').bind(merchantId).run()
  })

  it('a merchant saved while there was one shard stays there when a second is added, whatever the load', async () => {
    await registerMerchant('shard-early', { identity: ownKeys('shard-early') })
    const twoShards = { ...env, D1_SHARDS: 'DB,DB_SHARD_1' } satisfies Env
    // DB is the heavier shard now (every merchant of this file so far), yet a save keeps the merchant where its history is.
    expect(await assignShard(twoShards, 'shard-early', new Date().toISOString())).toBe('DB')
    const saved = await callWorker(
      new Request('https://gw.test/admin/merchants/shard-early', {
        method: 'PATCH',
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ requireRegisteredOrders: true }),
      }),
      { D1_SHARDS: 'DB,DB_SHARD_1' } satisfies Partial<Env>,
    )
    expect(saved.status).toBe(200)
    const row = await env.DB.prepare("SELECT shard FROM merchant_shards WHERE merchant_id = 'shard-early'").first()
    expect(row).toEqual({ shard: 'DB' })
  })
})

/**
 * A paid order whose object keeps nothing past retention (zero days: compacted as soon as it has nothing left to do),
 * its payment delivered and both of its alarm runs done; `send` ingests another notification of it.
 */
async function paidWithNoRetention(order: OrderRef) {
  const stub = stubFor(order)
  await setInstanceEnv(stub, { ...env, ORDER_RETENTION_DAYS: '0' } as unknown as Env)
  const send = (notification: ReturnType<typeof paymentNotification>) =>
    stub.ingest({ order, notification, settings: SETTINGS, receivedAt: Date.now(), source: 'notify' })
  const payment = paymentNotification(order)
  expect((await send(payment)).verdict).toBe('accepted')
  await runDurableObjectAlarm(stub)
  await runDurableObjectAlarm(stub)
  return { stub, send, payment }
}

describe('order object storage', () => {
  it('a new payment writes 4 rows in ingest (2 schema rows of the table, the head, the event) and 1 in its alarm; a duplicate 1', async () => {
    const order = uniqueOrder('ROWS')
    network.use(http.post(FORWARD.url, () => HttpResponse.text('ok')))
    await setInstanceEnv(stubFor(order), { ...env, METER: 'on' } as Env)
    const meters = () =>
      capturedLines
        .filter((line) => line.includes('"meter.object"'))
        .map((line) => JSON.parse(line) as { op: string; verdict: string | null; rows_written: number; alarms_set: number })
    const before = meters().length
    const ingest = () =>
      stubFor(order).ingest({
        order,
        notification: paymentNotification(order),
        settings: SETTINGS,
        receivedAt: Date.now(),
        source: 'notify',
      })
    expect((await ingest()).verdict).toBe('accepted')
    await runDurableObjectAlarm(stubFor(order))
    expect((await ingest()).verdict).toBe('duplicate')
    expect(
      meters()
        .slice(before)
        .map(({ op, verdict, rows_written, alarms_set }) => [op, verdict, rows_written, alarms_set]),
    ).toEqual([
      ['ingest', 'accepted', 4, 1],
      // The delivery's outcome; and the alarm that comes back when the order may be compacted.
      ['alarm', null, 1, 1],
      ['ingest', 'duplicate', 1, 0],
    ])
  })

  it('a compacted order keeps its tombstone: a late duplicate is one, a late refund applies once', async () => {
    const order = uniqueOrder('TOMB')
    const forwarded: string[] = []
    network.use(
      http.post(FORWARD.url, async ({ request }) => {
        forwarded.push(((await request.json()) as { type: string }).type)
        return HttpResponse.text('ok')
      }),
    )
    const { stub, send, payment } = await paidWithNoRetention(order)
    const compacted = await inOrderStore(order, (store) => ({
      at: store.compactedAt(),
      events: store.events.all().length,
      status: store.order.get()?.status,
    }))
    expect(compacted).toMatchObject({ events: 0, status: 'paid' })
    expect(compacted.at).not.toBeNull()

    expect((await send(payment)).verdict).toBe('duplicate')
    const refund = refundNotification(order, 'TOMB-R1', 40)
    expect((await send(refund)).verdict).toBe('accepted')
    expect((await send(refund)).verdict).toBe('duplicate')
    await runDurableObjectAlarm(stub)
    expect(forwarded).toEqual(['payment.succeeded', 'refund.succeeded'])
    expect(await inOrderStore(order, (store) => store.order.get()?.refundedAmount)).toBe(40)
  })

  it('a tombstone’s late duplicates and refusals go in their turn: its storage stays bounded', async () => {
    network.use(http.post(FORWARD.url, () => HttpResponse.text('ok')))
    const order = uniqueOrder('TOMB-LATE')
    const { stub, send, payment } = await paidWithNoRetention(order)
    const firstTombstone = await inOrderStore(order, (store) => store.compactedAt())
    expect(firstTombstone).not.toBeNull()

    // The provider resends the payment; a refund above the order is refused. Each leaves an audit entry.
    await scheduler.wait(5)
    expect((await send(payment)).verdict).toBe('duplicate')
    // The duplicate sets the alarm: a tombstone has no other work to wake it.
    expect(await runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).not.toBeNull()
    expect((await send(refundNotification(order, 'TOMB-LATE-R1', 500))).verdict).toBe('rejected')
    // The accepted ones stay: they are the dedupe set.
    const trail = () =>
      inOrderStore(order, (store) =>
        store.notifications
          .all()
          .map((n) => n.verdict)
          .filter((v) => v !== 'accepted'),
      )
    expect(await trail()).toEqual(['duplicate', 'rejected'])
    // The alarm's run compacts them in their turn.
    await runDurableObjectAlarm(stub)
    await runDurableObjectAlarm(stub)
    expect(await trail()).toEqual([])
    expect(await inOrderStore(order, (store) => store.compactedAt())).not.toBe(firstTombstone)
    expect((await send(payment)).verdict).toBe('duplicate')
  })
})

describe('compaction racing a late duplicate', () => {
  it('a duplicate that comes while the compacting run hands off puts compaction off to its own retention date', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const start = Date.now()
      network.use(http.post(FORWARD.url, () => HttpResponse.text('ok')))
      const order = uniqueOrder('TOMB-RACE')
      const stub = stubFor(order)
      const ingest = { order, notification: paymentNotification(order), settings: SETTINGS, source: 'notify' as const }
      expect((await stub.ingest({ ...ingest, receivedAt: Date.now() })).verdict).toBe('accepted')
      await runDurableObjectAlarm(stub)
      // 401 days on (the default retention is 400), the compacting run; the provider's late retry of the payment comes
      // in while that run hands the order's state to the queue.
      vi.setSystemTime(start + 401 * 24 * 3600_000)
      const outcome = await runInDurableObject(stub, async (o: OrderObject, state) => {
        let sending!: () => void
        const sent = new Promise<void>((resolve) => (sending = resolve))
        let release!: () => void
        const held = new Promise<void>((resolve) => (release = resolve))
        const send = async (record: ProjectionRecord, options?: QueueSendOptions) => {
          sending()
          await held
          await env.PROJECTION.send(record, options)
        }
        const object = o as unknown as { env: Env; projection: { lastSent: string | null } }
        // A fresh instance, as 401 days later: it has handed nothing on yet.
        object.projection.lastSent = null
        object.env = { ...env, PROJECTION: { send } as unknown as Queue }
        // The alarm that runs now is no longer stored (as when the runtime runs it).
        await state.storage.deleteAlarm()
        const run = o.alarm()
        await sent
        const late = await o.ingest({ ...ingest, receivedAt: Date.now() })
        release()
        await run
        const store = objectStore(o)
        return {
          verdict: late.verdict,
          compactedAt: store.compactedAt(),
          trail: store.notifications.all().map((n) => n.verdict),
          alarm: await state.storage.getAlarm(),
        }
      })
      expect(outcome).toMatchObject({ verdict: 'duplicate', compactedAt: null, trail: ['accepted', 'duplicate'] })
      // Its own retention date: 400 days after the duplicate.
      expect(outcome.alarm).toBe(start + 801 * 24 * 3600_000)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('parked records', () => {
  it('are counted from the two ends of their run, without reading every parked record', async () => {
    const stub = env.DEAD_LETTERS.getByName('count-by-ends') as DurableObjectStub<ProjectionDeadLetters>
    await runInDurableObject(stub, (parked: ProjectionDeadLetters, state) => {
      const record = { kind: 'refusal', id: 'ntf_rej_parked', merchantId: 'parked', channel: 'alipay', reason: 'x', receivedAt: 0 }
      for (let at = 1; at <= 5; at++)
        parked.park(
          Array.from({ length: 100 }, () => record as ProjectionRecord),
          at,
        )
      // A re-drive takes from the front: the first 150 went back to the queue.
      state.storage.sql.exec('DELETE FROM parked WHERE seq <= (SELECT min(seq) + 149 FROM parked)')
      const { sql } = state.storage
      const exec = sql.exec.bind(sql)
      let rowsRead = 0
      sql.exec = ((query: string, ...bindings: unknown[]) => {
        const cursor = exec(query, ...bindings)
        const rows = cursor.toArray()
        rowsRead += cursor.rowsRead
        return { one: () => rows[0], toArray: () => rows } as unknown as SqlStorageCursor<Record<string, SqlStorageValue>>
      }) as typeof sql.exec
      try {
        expect(parked.status()).toEqual({ parked: 350, oldestParkedAt: 2 })
      } finally {
        sql.exec = exec
      }
      expect(rowsRead).toBeLessThan(10)
    })
  })
})

describe('a re-drive', () => {
  it('sends what it was asked for, oldest first, a page of parked records at a time, and keeps the rest', async () => {
    const stub = env.DEAD_LETTERS.getByName('redrive-pages') as DurableObjectStub<ProjectionDeadLetters>
    await runInDurableObject(stub, async (parked: ProjectionDeadLetters, state) => {
      const record = (i: number) => ({
        kind: 'refusal',
        id: `ntf_rej_${i}`,
        merchantId: 'parked',
        channel: 'alipay',
        reason: 'x',
        receivedAt: i,
      })
      parked.park(
        Array.from({ length: 250 }, (_, i) => record(i) as ProjectionRecord),
        1,
      )
      const sent: string[] = []
      const pages: number[] = []
      const { sql } = state.storage
      const exec = sql.exec.bind(sql)
      sql.exec = ((query: string, ...bindings: unknown[]) => {
        if (query.startsWith('SELECT seq, body')) pages.push(Number(bindings[0]))
        return exec(query, ...bindings)
      }) as typeof sql.exec
      const recording = {
        send: async () => undefined,
        sendBatch: async (messages: Iterable<MessageSendRequest<ProjectionRecord>>) => {
          for (const m of messages) sent.push((m.body as { id: string }).id)
        },
      }
      ;(parked as unknown as { env: Env }).env = { ...env, PROJECTION: recording as unknown as Queue }
      try {
        expect(await parked.redrive(220)).toEqual({ redriven: 220, remaining: 30 })
        expect(await parked.redrive(1000)).toEqual({ redriven: 30, remaining: 0 })
      } finally {
        sql.exec = exec
        ;(parked as unknown as { env: Env }).env = env
      }
      expect(sent).toEqual(Array.from({ length: 250 }, (_, i) => `ntf_rej_${i}`))
      // Never more than a page read at once.
      expect(Math.max(...pages)).toBeLessThanOrEqual(100)
    })
  })
})

describe('two re-drives at once', () => {
  it('send each parked record once: three parked duplicates of an order are counted three times, not six', async () => {
    const merchantId = 'redrive-twice'
    const receivedAt = Date.now()
    const parked = env.DEAD_LETTERS.getByName('projection') as DurableObjectStub<ProjectionDeadLetters>
    const records: ProjectionRecord[] = Array.from({ length: 3 }, () => ({ kind: 'duplicate', merchantId, receivedAt }))
    const before = await parked.count()
    await parked.park(records, receivedAt)
    const duplicates = async () =>
      (
        await env.DB.prepare('SELECT coalesce(sum(duplicate), 0) AS n FROM merchant_stats WHERE merchant_id = ?1')
          .bind(merchantId)
          .first<{ n: number }>()
      )?.n
    // Two operators (or a CLI run retried while the first still sends), through the real queue and consumer.
    const redrive = async () => (await admin('/admin/projection/redrive', { method: 'POST', body: '{}' })).json<{ redriven: number }>()
    const [first, second] = await Promise.all([redrive(), redrive()])
    await vi.waitFor(async () => expect(await duplicates()).toBeGreaterThanOrEqual(3), PROJECTION_WAIT)
    await scheduler.wait(1_000)
    expect({ redriven: first.redriven + second.redriven, counted: await duplicates(), left: await parked.count() }).toEqual({
      redriven: before + 3,
      counted: 3,
      left: 0,
    })
  })
})

describe('an alarm run that changes more deliveries than one record carries', () => {
  it('hands every change on: a disable failing a payment and its 50 waiting refunds at once leaves D1 with 51 failed', async () => {
    const merchantId = 'queue-many-deliveries'
    const ids = ownKeys(merchantId)
    await registerMerchant(merchantId, { identity: ids })
    network.use(http.post(forwardUrl(merchantId), () => new HttpResponse('down', { status: 500 })))
    const payment = freshPayment('wechatpay.v3', { identity: ids, amount: 1000 })
    expect((await notify('wechatpay.v3', merchantId, payment)).status).toBe(204)
    const order: OrderRef = { merchantId, provider: 'wechatpay', outTradeNo: payment.outTradeNo }
    // The merchant's endpoint fails while WeChat Pay reports 50 refunds (as many as one order may have): they wait.
    for (let i = 0; i < 50; i++) {
      const refund = v3RefundNotify({ outTradeNo: payment.outTradeNo, outRefundNo: `R${i}`, refund: 1, total: 1000, identity: ids.wechat })
      expect((await notify('wechatpay.v3', merchantId, refund)).status).toBe(204)
      await runDurableObjectAlarm(stubFor(order))
    }
    // Disabled: at the payment's next retry every waiting delivery fails at once, in one run.
    expect((await admin(`/admin/merchants/${merchantId}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.now() + 60_000)
      await makeDeliveriesDue(order)
      await runDurableObjectAlarm(stubFor(order))
    } finally {
      vi.useRealTimers()
    }
    const rows = await deliveryRows(order)
    expect(rows.filter((row) => row.status === 'failed')).toHaveLength(51)
    const inD1 = async () =>
      (
        await env.DB.prepare('SELECT status, count(*) AS n FROM deliveries WHERE merchant_id = ?1 AND out_trade_no = ?2 GROUP BY status')
          .bind(merchantId, payment.outTradeNo)
          .all<{ status: string; n: number }>()
      ).results
    await vi.waitFor(async () => expect(await inD1()).toEqual([{ status: 'failed', n: 51 }]), PROJECTION_WAIT)
  }, 60_000)
})
