/**
 * Fault injection: the infrastructure fails, and still no payment is lost, none is processed twice,
 * and nothing is forwarded that should not be.
 *
 * How the faults are made (workerd cannot unplug a binding):
 *   - D1 down for the Worker: its fetch handler is called directly with an environment whose `DB` is a
 *     D1Database-shaped object that rejects every query (harness.ts `unavailableD1`, `callWorker`).
 *   - D1 down for an order object: `runInDurableObject` swaps the live instance's `env` for one with
 *     that `DB`, before the notification reaches it; swapping it back is "D1 returns".
 *   - The order object reset between its commit and its reply: `runInDurableObject` wraps the live
 *     instance's `ingest` so that, once the original has committed and returned, the object aborts
 *     (`ctx.abort()`), as a crash or a code update would; the Worker's RPC then fails.
 *   - Slow, huge and redirecting merchants: msw answers the forward URL that way; the slow case runs the
 *     delivery runner over the order object's own storage with a short attempt timeout (the
 *     production alarm uses 15 s, the same code path).
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { delay, http, HttpResponse } from 'msw'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { open, readMasterKey } from '../../src/crypto/sealed'
import { RESPONSE_SNIPPET_BYTES } from '../../src/delivery/attempt'
import { merchantReplica } from '../../src/merchants/merchant-replica'
import { deliverHeadOfLine } from '../../src/order/delivery-runner'
import { orderStub, type OrderRef } from '../../src/order/order-key'
import { OrderObject, type IngestRequest } from '../../src/order/order-object'
import { network, PUBLIC_ADDRESS, resolveTo } from '../msw'
import { capturedLines } from '../support/console-capture'
import {
  ACCEPT,
  callWorker,
  forwardUrl,
  freshPayment,
  notify,
  notifyRequest,
  orderView,
  recordForwarded,
  ownKeys,
  registerMerchant,
  rejectReply,
  unavailableD1,
  type ForwardedCall,
} from './harness'
import { inOrderStore, makePendingDue, objectStore, outboxCounts, PROJECTION_WAIT } from '../support/orders'
import { setInstanceEnv } from '../support/instance-env'

afterEach(() => vi.useRealTimers())

function orderRef(merchantId: string, outTradeNo: string): OrderRef {
  return { merchantId, provider: 'wechatpay', outTradeNo }
}

/** Rows in the order object's own tables. */
function outbox(ref: OrderRef): Promise<{ events: number; deliveries: number; seen: number; audit: Record<string, number> }> {
  // An object whose first write was lost has no records at all: it holds nothing.
  return outboxCounts(ref)
}

/** Makes D1 unreachable (or reachable again) for one order object, before or after it has any state. */
function setOrderObjectD1(ref: OrderRef, db: D1Database): Promise<void> {
  return setInstanceEnv(orderStub(env, ref), { ...env, DB: db })
}

describe('D1 unavailable', () => {
  it('a cold isolate verifies through the merchant replica, accepts, delivers, and the D1 projection catches up when D1 returns', async () => {
    const merchantId = 'fault-d1'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const forwarded: ForwardedCall[] = []
    recordForwarded(forwarded)
    const payment = freshPayment('wechatpay.v2', { identity: ownKeys(merchantId) })
    const ref = orderRef(merchantId, payment.outTradeNo)
    const d1 = unavailableD1()
    await setOrderObjectD1(ref, d1.db)

    // The merchant was saved through another isolate's cache; this call reads it with D1 failing.
    const response = await callWorker(notifyRequest('wechatpay.v2', merchantId, payment), { DB: d1.db })
    expect({ status: response.status, body: await response.text() }).toEqual(ACCEPT['wechatpay.v2'])
    expect(d1.calls()).toBeGreaterThan(0)

    // Delivery needs no D1: the order object holds the forward URL and sealed secret itself.
    await vi.waitFor(() => expect(forwarded.filter((c) => c.outTradeNo === payment.outTradeNo)).toHaveLength(1))
    // Read-your-writes with D1 down: the admin API reads the order object, the merchant from its replica.
    const view = await callWorker(
      new Request(`https://gw.test/admin/merchants/${merchantId}/orders/${payment.outTradeNo}`, {
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
      }),
      { DB: d1.db },
    )
    expect(view.status).toBe(200)
    expect(await view.json()).toMatchObject({ status: 'paid', deliveries: [{ status: 'delivered' }] })
    await vi.waitFor(async () =>
      expect((await orderView(merchantId, 'wechatpay', payment.outTradeNo))?.deliveries[0]?.status).toBe('delivered'),
    )
    // The order object never writes D1 itself: its state reaches D1 through the projection queue, whose consumer has
    // its own D1 (test/storage/projection-queue.test.ts covers the consumer's D1 outage).
    await vi.waitFor(async () => {
      const projected = await env.DB.prepare('SELECT status FROM orders WHERE merchant_id = ? AND out_trade_no = ?')
        .bind(merchantId, payment.outTradeNo)
        .first<{ status: string }>()
      expect(projected).toEqual({ status: 'paid' })
      const deliveries = await env.DB.prepare('SELECT status FROM deliveries WHERE merchant_id = ? AND out_trade_no = ?')
        .bind(merchantId, payment.outTradeNo)
        .all()
      expect(deliveries.results).toEqual([{ status: 'delivered' }])
    }, PROJECTION_WAIT)
    expect(forwarded.filter((c) => c.outTradeNo === payment.outTradeNo)).toHaveLength(1)
  })

  it('rejects forged notifications with D1 down just as with D1 up', async () => {
    const merchantId = 'fault-d1-forged'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const d1 = unavailableD1()
    const forged = freshPayment('alipay', { identity: ownKeys(merchantId) })
    const tampered = { ...forged, body: forged.body.replace('total_amount=1.00', 'total_amount=1000.00') }
    const response = await callWorker(notifyRequest('alipay', merchantId, tampered), { DB: d1.db })
    expect({ status: response.status, body: await response.text() }).toEqual(rejectReply('alipay', 401, ''))
    expect(await orderView(merchantId, 'alipay', forged.outTradeNo)).toBeNull()
  })

  it('with neither D1 nor a replica, asks the provider to retry (503), and the retry is processed once', async () => {
    const merchantId = 'fault-no-replica'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    // As for a merchant saved before replicas existed.
    await runInDurableObject(merchantReplica(env, merchantId), (_instance, state) => {
      state.storage.sql.exec('DELETE FROM merchant')
    })
    const forwarded: ForwardedCall[] = []
    recordForwarded(forwarded)
    const payment = freshPayment('wechatpay.v3', { identity: ownKeys(merchantId) })
    const d1 = unavailableD1()

    const logged = capturedLines.length
    const refused = await callWorker(notifyRequest('wechatpay.v3', merchantId, payment), { DB: d1.db })
    expect({ status: refused.status, body: await refused.text() }).toEqual(
      rejectReply('wechatpay.v3', 503, 'temporarily unavailable, retry later'),
    )
    // Its log line names the merchant the path named, though it could not be loaded.
    const lines = capturedLines.slice(logged).flatMap((line) => (line.startsWith('{') ? [JSON.parse(line) as Record<string, unknown>] : []))
    expect(lines.filter((l) => l.event === 'notification')).toEqual([
      expect.objectContaining({ merchant_id: merchantId, channel: 'wechatpay.v3', outcome: 'rejected', reason: 'storage_unavailable' }),
    ])
    expect(await orderView(merchantId, 'wechatpay', payment.outTradeNo)).toBeNull()

    const retried = await notify('wechatpay.v3', merchantId, payment)
    expect(retried.status).toBe(204)
    expect(await outbox(orderRef(merchantId, payment.outTradeNo))).toMatchObject({ events: 1, seen: 1 })
    await vi.waitFor(() => expect(forwarded.filter((c) => c.outTradeNo === payment.outTradeNo)).toHaveLength(1))
  })

  it('keeps the replica current: a merchant replaced while D1 is up is what a D1-less read sees', async () => {
    const merchantId = 'fault-replica-current'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const forwarded: ForwardedCall[] = []
    recordForwarded(forwarded)
    await registerMerchant(merchantId, { identity: ownKeys(merchantId), v2SignType: 'HMAC-SHA256' })
    const d1 = unavailableD1()
    const md5 = freshPayment('wechatpay.v2', { identity: ownKeys(merchantId) })
    const refused = await callWorker(notifyRequest('wechatpay.v2', merchantId, md5), { DB: d1.db })
    expect({ status: refused.status, body: await refused.text() }).toEqual(
      rejectReply('wechatpay.v2', 401, 'sign type MD5 is not allowed for this merchant'),
    )
    const hmac = freshPayment('wechatpay.v2', { identity: ownKeys(merchantId), v2SignType: 'HMAC-SHA256' })
    const accepted = await callWorker(notifyRequest('wechatpay.v2', merchantId, hmac), { DB: d1.db })
    expect(accepted.status).toBe(200)
    const replicated = await merchantReplica(env, merchantId).get()
    expect(replicated?.version).toBe(2)
    await vi.waitFor(() => expect(forwarded.map((c) => c.outTradeNo)).toEqual([hmac.outTradeNo]))
  })
})

describe('the order object fails between its commit and its reply', () => {
  /**
   * The next `ingest` of `ref` runs to completion, then the object is reset before its reply leaves.
   * RPC dispatches through the class's prototype, so that is where the fault goes, for one call only.
   */
  function resetAfterIngest(ref: OrderRef, durable: boolean): void {
    const ingest = OrderObject.prototype.ingest
    const fault = vi.spyOn(OrderObject.prototype, 'ingest').mockImplementation(async function (this: OrderObject, request: IngestRequest) {
      const result = await ingest.call(this, request)
      if (request.order.outTradeNo !== ref.outTradeNo) return result
      fault.mockRestore()
      const state = (this as unknown as { ctx: DurableObjectState }).ctx
      // `sync()` waits until the write is durable: the reset then falls between the write and the reply.
      if (durable) await state.storage.sync()
      state.abort('reset between commit and reply')
      return result
    })
  }

  it('after a durable write: the provider is told to retry, and its retry is a duplicate; one event forwarded', async () => {
    const merchantId = 'fault-reset'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const forwarded: ForwardedCall[] = []
    recordForwarded(forwarded)
    const payment = freshPayment('wechatpay.v2', { identity: ownKeys(merchantId) })
    const ref = orderRef(merchantId, payment.outTradeNo)
    resetAfterIngest(ref, true)

    const first = await notify('wechatpay.v2', merchantId, payment)
    expect({ status: first.status, body: await first.text() }).toEqual(
      rejectReply('wechatpay.v2', 503, 'temporarily unavailable, retry later'),
    )
    // The write had committed: the payment is there although the provider was told to retry.
    expect(await outbox(ref)).toMatchObject({ events: 1, deliveries: 1, seen: 1, audit: { accepted: 1 } })

    const retry = await notify('wechatpay.v2', merchantId, payment)
    expect({ status: retry.status, body: await retry.text() }).toEqual(ACCEPT['wechatpay.v2'])
    expect(await outbox(ref)).toEqual({ events: 1, deliveries: 1, seen: 1, audit: { accepted: 1, duplicate: 1 } })
    await runDurableObjectAlarm(orderStub(env, ref))
    await vi.waitFor(() => expect(forwarded.filter((c) => c.outTradeNo === payment.outTradeNo)).toHaveLength(1))
    expect((await orderView(merchantId, 'wechatpay', payment.outTradeNo))?.status).toBe('paid')
  })

  it('after the write, its alarm failing: the provider retries, and its retry, a duplicate, sets the alarm the payment owes', async () => {
    const merchantId = 'fault-alarm'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const forwarded: ForwardedCall[] = []
    recordForwarded(forwarded)
    const payment = freshPayment('wechatpay.v2', { identity: ownKeys(merchantId) })
    const ref = orderRef(merchantId, payment.outTradeNo)
    // The object's next setAlarm throws, after the ingest's transaction committed.
    await runInDurableObject(orderStub(env, ref), (instance: OrderObject) => {
      const store = objectStore(instance) as unknown as { storage: DurableObjectStorage }
      const storage = store.storage
      store.storage = {
        setAlarm: () => {
          store.storage = storage
          return Promise.reject(new Error('setAlarm: storage operation failed'))
        },
      } as unknown as DurableObjectStorage
    })

    const first = await notify('wechatpay.v2', merchantId, payment)
    expect({ status: first.status, body: await first.text() }).toEqual(
      rejectReply('wechatpay.v2', 503, 'temporarily unavailable, retry later'),
    )
    expect(await outbox(ref)).toMatchObject({ events: 1, deliveries: 1, seen: 1, audit: { accepted: 1 } })
    const alarm = () => runInDurableObject(orderStub(env, ref), (_instance: OrderObject, state) => state.storage.getAlarm())
    expect(await alarm()).toBeNull()

    const retry = await notify('wechatpay.v2', merchantId, payment)
    expect({ status: retry.status, body: await retry.text() }).toEqual(ACCEPT['wechatpay.v2'])
    expect(await alarm()).not.toBeNull()
    await runDurableObjectAlarm(orderStub(env, ref))
    await vi.waitFor(() => expect(forwarded.filter((c) => c.outTradeNo === payment.outTradeNo)).toHaveLength(1))
    // A later duplicate, with nothing owed, sets no alarm of its own: the one left is the retention date.
    const settled = await alarm()
    expect((await notify('wechatpay.v2', merchantId, payment)).status).toBe(200)
    expect(await alarm()).toBe(settled)
  })

  it('before the write was durable: nothing is kept, the provider retries, and the retry is processed once', async () => {
    const merchantId = 'fault-reset-early'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const forwarded: ForwardedCall[] = []
    recordForwarded(forwarded)
    const payment = freshPayment('wechatpay.v3', { identity: ownKeys(merchantId) })
    const ref = orderRef(merchantId, payment.outTradeNo)
    resetAfterIngest(ref, false)

    const first = await notify('wechatpay.v3', merchantId, payment)
    expect({ status: first.status, body: await first.text() }).toEqual(
      rejectReply('wechatpay.v3', 503, 'temporarily unavailable, retry later'),
    )
    // The reset discarded the write that had not yet reached disk: as if the notification never came.
    expect(await outbox(ref)).toEqual({ events: 0, deliveries: 0, seen: 0, audit: {} })

    const retry = await notify('wechatpay.v3', merchantId, payment)
    expect(retry.status).toBe(204)
    expect(await outbox(ref)).toMatchObject({ events: 1, deliveries: 1, seen: 1 })
    await runDurableObjectAlarm(orderStub(env, ref))
    await vi.waitFor(() => expect(forwarded.filter((c) => c.outTradeNo === payment.outTradeNo)).toHaveLength(1))
  })

  it('a duplicate storm (40 concurrent copies, then 5 more) is accepted every time and processed once', async () => {
    const merchantId = 'fault-storm'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const forwarded: ForwardedCall[] = []
    recordForwarded(forwarded)
    const payment = freshPayment('alipay', { identity: ownKeys(merchantId) })
    const replies = await Promise.all(Array.from({ length: 40 }, () => notify('alipay', merchantId, payment)))
    for (const reply of replies) expect({ status: reply.status, body: await reply.text() }).toEqual(ACCEPT.alipay)
    for (let i = 0; i < 5; i++) expect(await (await notify('alipay', merchantId, payment)).text()).toBe('success')
    const counts = await outboxCounts({ merchantId, provider: 'alipay', outTradeNo: payment.outTradeNo })
    expect(counts.audit).toEqual({ accepted: 1, duplicate: 44 })
    await runDurableObjectAlarm(orderStub(env, { merchantId, provider: 'alipay', outTradeNo: payment.outTradeNo }))
    await vi.waitFor(() => expect(forwarded.filter((c) => c.outTradeNo === payment.outTradeNo)).toHaveLength(1))
  })
})

describe('hostile or broken merchant endpoints', () => {
  /** Accepts a fresh v2 payment for `merchantId` through the Worker and returns its order. */
  async function acceptedPayment(merchantId: string): Promise<OrderRef> {
    const payment = freshPayment('wechatpay.v2', { identity: ownKeys(merchantId) })
    const response = await notify('wechatpay.v2', merchantId, payment)
    expect(response.status).toBe(200)
    return orderRef(merchantId, payment.outTradeNo)
  }

  function attemptLog(ref: OrderRef) {
    return inOrderStore(ref, (store) =>
      store.deliveries.attempts(store.deliveries.all()[0]!.id).map((a) => ({
        number: a.number,
        status_code: a.statusCode,
        outcome: a.outcome,
        error: a.error,
        latency_ms: a.latencyMs,
        response_snippet: a.responseSnippet,
      })),
    )
  }

  function deliveryRow(ref: OrderRef) {
    return inOrderStore(ref, (store) => {
      const { status, attempts, lastError } = store.deliveries.all()[0]!
      return { status, attempts, last_error: lastError }
    })
  }

  /** Makes the order's pending delivery due and runs it, as its alarm would, with the options given (a clock…). */
  function runDueDelivery(ref: OrderRef, options: { now?: () => number; random?: () => number; attemptTimeoutMs?: number }) {
    return runInDurableObject(orderStub(env, ref), async (instance: OrderObject) => {
      const store = objectStore(instance)
      makePendingDue(store)
      await deliverHeadOfLine(store, {
        owner: { merchantId: ref.merchantId, outTradeNo: ref.outTradeNo },
        openSecrets: async (target) => [await open(readMasterKey(env.MASTER_KEY), ref.merchantId, target.sealedSecret)],
        allowLoopback: true,
        ...options,
      })
    })
  }

  it('a merchant that never answers times out, the delivery stays pending, and a later attempt delivers the same event', async () => {
    const merchantId = 'fault-slow'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    let mode: 'refuse' | 'hang' | 'ok' = 'refuse'
    const ids: string[] = []
    network.use(
      http.post(forwardUrl(merchantId), async ({ request }) => {
        ids.push(request.headers.get('webhook-id') ?? '')
        if (mode === 'refuse') return new HttpResponse('busy', { status: 503 })
        if (mode === 'hang') await delay(5_000)
        return HttpResponse.text('ok')
      }),
    )
    const ref = await acceptedPayment(merchantId)
    // The alarm's own first attempt meets a 503 and backs off.
    await vi.waitFor(async () => expect(await deliveryRow(ref)).toMatchObject({ status: 'pending', attempts: 1 }))

    mode = 'hang'
    const started = Date.now()
    await runDueDelivery(ref, { attemptTimeoutMs: 300 })
    expect(Date.now() - started).toBeLessThan(4_000)
    expect(await deliveryRow(ref)).toEqual({ status: 'pending', attempts: 2, last_error: 'timeout' })
    expect((await attemptLog(ref))[1]).toMatchObject({ number: 2, status_code: null, outcome: 'retry', error: 'timeout' })

    mode = 'ok'
    await inOrderStore(ref, makePendingDue)
    await runDurableObjectAlarm(orderStub(env, ref))
    await vi.waitFor(async () => expect(await deliveryRow(ref)).toMatchObject({ status: 'delivered', attempts: 3 }))
    expect(ids).toHaveLength(3)
    expect(new Set(ids).size).toBe(1)
  })

  it("times a retry from the failed attempt's start: a merchant failing slowly still gets its second retry within a minute", async () => {
    const merchantId = 'fault-slow-schedule'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    // The gateway's clock in the attempts below: each of them takes the whole 15 s attempt limit, then fails.
    let now = Date.parse('2031-03-01T00:00:00Z')
    let slow = false
    network.use(
      http.post(forwardUrl(merchantId), () => {
        if (slow) now += 15_000
        return new HttpResponse('busy', { status: 503 })
      }),
    )
    const ref = await acceptedPayment(merchantId)
    await vi.waitFor(async () => expect(await deliveryRow(ref)).toMatchObject({ status: 'pending', attempts: 1 }))
    slow = true
    const attemptAt = async (random: number): Promise<{ started: number; finished: number; next: number }> => {
      const started = now
      await runDueDelivery(ref, { now: () => now, random: () => random })
      const next = await inOrderStore(ref, (store) => store.deliveries.all()[0]!.nextAttemptAt!)
      return { started, finished: now, next }
    }
    // Attempt 2 (the first retry) failed after 15 s: the next waits 30 s ±20 % from its start, at the latest (+20 %) 36 s.
    const second = await attemptAt(0.999_999)
    expect(second.finished - second.started).toBe(15_000)
    expect(second.next - second.started).toBe(36_000)
    // Had it waited from the end, the second retry would come 51 s after the first retry began, 66 s after the first
    // attempt. A wait shorter than the attempt itself is no wait: the retry is due as the attempt ends, never before.
    const third = await attemptAt(0)
    expect(third.next).toBe(third.started + 2 * 60_000 * 0.8)
    // As if it were the first attempt that failed so slowly: its 5 s (at most 6 s) is over before the attempt is, and
    // the first retry is due as it ends.
    await inOrderStore(ref, (store) => {
      const delivery = store.deliveries.all()[0]!
      store.deliveries.update(delivery.id, { ...delivery, attempts: 0 }, new Date(now).toISOString())
    })
    const firstRetry = await attemptAt(0.999_999)
    // So the same alarm run makes the first retry right after it (both take 15 s), and times the next from the retry.
    expect(firstRetry.finished - firstRetry.started).toBe(30_000)
    expect(firstRetry.next).toBe(firstRetry.started + 15_000 + 36_000)
  })

  it("counts a merchant's Retry-After from its reply, not from the attempt's start: never retried before it asked", async () => {
    const merchantId = 'fault-retry-after-slow'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    let now = Date.parse('2031-03-01T00:00:00Z')
    let slow = false
    network.use(
      http.post(forwardUrl(merchantId), () => {
        if (!slow) return new HttpResponse('busy', { status: 503 })
        // Replies 3 s in, asking for 34 s more.
        now += 3_000
        return new HttpResponse('busy', { status: 503, headers: { 'retry-after': '34' } })
      }),
    )
    const ref = await acceptedPayment(merchantId)
    await vi.waitFor(async () => expect(await deliveryRow(ref)).toMatchObject({ status: 'pending', attempts: 1 }))
    slow = true
    const started = now
    await runDueDelivery(ref, { now: () => now, random: () => 0.5 })
    // Attempt 2 failed: the table's 30 s (capped at 39 s from its start) gives way to the 34 s asked, from the reply.
    const next = await inOrderStore(ref, (store) => store.deliveries.all()[0]!.nextAttemptAt!)
    expect(next).toBe(started + 3_000 + 34_000)
  })

  it('a merchant answering with megabytes is read only as far as the log needs, then cut off', async () => {
    const merchantId = 'fault-huge'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const chunk = new Uint8Array(64 * 1024).fill(0x61)
    const total = 32 * 1024 * 1024
    let pulled = 0
    let cancelled = false
    network.use(
      http.post(forwardUrl(merchantId), () => {
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (pulled >= total) return controller.close()
            pulled += chunk.byteLength
            controller.enqueue(chunk)
          },
          cancel() {
            cancelled = true
          },
        })
        return new HttpResponse(body, { status: 200, headers: { 'content-type': 'text/plain' } })
      }),
    )
    const ref = await acceptedPayment(merchantId)
    await vi.waitFor(async () => expect(await deliveryRow(ref)).toMatchObject({ status: 'delivered', attempts: 1 }))
    const [attempt] = await attemptLog(ref)
    expect(attempt!.response_snippet).toBe('a'.repeat(RESPONSE_SNIPPET_BYTES))
    expect(cancelled).toBe(true)
    // At most a few chunks of 32 MiB were ever produced.
    expect(pulled).toBeLessThanOrEqual(4 * chunk.byteLength)
  })

  it('redirects are not followed: not to the metadata service, not anywhere', async () => {
    const merchantId = 'fault-redirect'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const followed: string[] = []
    network.use(
      http.post(
        forwardUrl(merchantId),
        () => new HttpResponse(null, { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/iam' } }),
      ),
      http.all('http://169.254.169.254/*', ({ request }) => {
        followed.push(request.url)
        return HttpResponse.text('secret credentials')
      }),
    )
    const ref = await acceptedPayment(merchantId)
    await vi.waitFor(async () =>
      expect(await deliveryRow(ref)).toMatchObject({ status: 'pending', attempts: 1, last_error: 'redirect not followed' }),
    )
    expect((await attemptLog(ref))[0]).toMatchObject({ status_code: 302, outcome: 'retry', error: 'redirect not followed' })
    expect(followed).toEqual([])
  })

  it('a forward URL whose host name now resolves to a private address is not called: retried, delivered once it resolves publicly', async () => {
    const merchantId = 'fault-rebind'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    const host = new URL(forwardUrl(merchantId)).hostname
    const calls: string[] = []
    network.use(
      http.post(forwardUrl(merchantId), ({ request }) => {
        calls.push(request.url)
        return HttpResponse.text('ok')
      }),
    )
    // DNS rebinding: the name the merchant saved now points into a private network (and a link-local IPv6 one).
    resolveTo(host, { A: [PUBLIC_ADDRESS, '10.0.0.7'], AAAA: ['fe80::1'] })
    try {
      const ref = await acceptedPayment(merchantId)
      await vi.waitFor(async () =>
        expect(await deliveryRow(ref)).toMatchObject({ status: 'pending', attempts: 1, last_error: 'resolves to a refused address' }),
      )
      expect(calls).toEqual([])
      // A name with no address at all: retried too, without a request.
      resolveTo(host, {})
      await inOrderStore(ref, makePendingDue)
      await runDurableObjectAlarm(orderStub(env, ref))
      expect(await deliveryRow(ref)).toMatchObject({ status: 'pending', attempts: 2, last_error: 'dns lookup failed' })
      expect(calls).toEqual([])
      // Public again: the next attempt delivers.
      resolveTo(host, { A: [PUBLIC_ADDRESS] })
      await inOrderStore(ref, makePendingDue)
      await runDurableObjectAlarm(orderStub(env, ref))
      expect(await deliveryRow(ref)).toMatchObject({ status: 'delivered', attempts: 3 })
      expect(calls).toHaveLength(1)
    } finally {
      resolveTo(host, { A: [PUBLIC_ADDRESS] })
    }
  })

  it('a forward URL that became private after it was stored is refused at delivery time, without a request', async () => {
    const merchantId = 'fault-private'
    await registerMerchant(merchantId, { identity: ownKeys(merchantId) })
    recordForwarded([])
    const calls: string[] = []
    network.use(
      http.all('https://10.0.0.1/*', ({ request }) => {
        calls.push(request.url)
        return HttpResponse.text('internal')
      }),
    )
    const ref = await acceptedPayment(merchantId)
    await vi.waitFor(async () => expect((await deliveryRow(ref)).status).not.toBe('pending'))
    // Rewrite the stored target (as a tampered row would) and send the event again: the runner checks the URL again.
    await runInDurableObject(orderStub(env, ref), async (_o: OrderObject, state) => {
      const store = objectStore(_o)
      const target = store.forwardTarget.get()!
      store.forwardTarget.save(
        { ...target, url: 'https://10.0.0.1/hook', merchantVersion: target.merchantVersion + 1 },
        new Date().toISOString(),
      )
      for (const d of store.deliveries.all()) store.deliveries.requeue(d.id, 0, new Date().toISOString())
      await state.storage.setAlarm(Date.now())
    })
    await runDurableObjectAlarm(orderStub(env, ref))
    expect(await deliveryRow(ref)).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/^forward URL refused: private/) })
    expect(calls).toEqual([])
  })
})
