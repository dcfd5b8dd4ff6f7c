/**
 * An order's alarm with deliveries and provider queries both due, through the real Worker (Alipay's answers signed by
 * node:crypto): the retry goes before the queries, so a slow provider does not hold it back (contract: the first retry
 * within 10 s of the failed attempt), and what the queries find is delivered in the same run, within the run's
 * attempts, to the endpoint as it then is, with one alert for one exhaustion.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { orderStub, type OrderRef } from '../../src/order/order-key'
import { admin, forwardUrl, notify } from '../security/harness'
import { freshOrderNo } from '../security/signing'
import { alipayTrade, saveQueryingMerchant } from '../support/closed-orders'
import { inOrderStore, makeDeliveriesDue, makeLastAttemptDue } from '../support/orders'
import { deliveryStates, merchantEndpoint, MONITOR_REPLY_LOST, opsEndpoint, runMonitorAlarm } from '../support/operations'
import { setInstanceEnv } from '../support/instance-env'
import { ATTEMPTS_PER_RUN } from '../../src/delivery/attempt'
import { MAX_DELIVERY_ATTEMPTS } from '../../src/delivery/schedule'
import { BREAKER_FAILING_MS } from '../../src/ops/breaker'
import { monitorStub } from '../../src/ops/monitor'
import type { MerchantMonitor } from '../../src/ops/monitor-object'
import { addEvent } from '../../src/order/outbox'
import { masterKeyring } from '../../src/merchants/master-keys'
import { MonitorStore } from '../../src/storage/monitor'
import { network } from '../msw'
import { ALIPAY_GATEWAY, alipayRefundQueryReply, holdFirstAlipayRequest, type QueryLog } from '../support/refunds'

/**
 * The merchant registers refund R1 (30 of the order's 100), and its query falls due: Alipay answers it settled, or
 * (`settled: false`) knows of no refund yet. Returns the refunds asked about.
 */
async function registerRefundQueryDue(order: OrderRef, { settled = true, log = { asked: [] } as QueryLog } = {}): Promise<QueryLog> {
  const put = await admin(`/admin/merchants/${order.merchantId}/orders/${order.outTradeNo}/refunds/R1`, {
    method: 'PUT',
    body: JSON.stringify({ amount: 30 }),
  })
  expect(put.status).toBe(200)
  await inOrderStore(order, (store) => store.refunds.save({ ...store.refunds.get('R1')!, nextQueryAt: 0 }, new Date().toISOString()))
  const { outTradeNo } = order
  network.use(
    http.post(ALIPAY_GATEWAY, async ({ request }) => {
      const form = new URLSearchParams(await request.text())
      if (form.get('method') !== 'alipay.trade.fastpay.refund.query') return undefined
      const refunds = settled ? [{ outTradeNo, outRefundNo: 'R1', amount: 30, total: 100 }] : []
      return alipayRefundQueryReply(form, refunds, log)
    }),
  )
  return log
}

describe("an order's alarm with a retry and a refund query due", () => {
  it('sends the retry before asking the provider, then delivers what the answer settled in the same run', async () => {
    const merchantId = 'retry-before-queries'
    await saveQueryingMerchant(merchantId)
    // The merchant's endpoint fails the first attempt, then takes every event.
    const received: string[] = []
    network.use(
      http.post(forwardUrl(merchantId), async ({ request }) => {
        const { type } = (await request.json()) as { type: string }
        received.push(type)
        return received.length === 1 ? new HttpResponse('busy', { status: 503 }) : HttpResponse.text('ok')
      }),
    )
    const outTradeNo = freshOrderNo('RBQ')
    const order: OrderRef = { merchantId, provider: 'alipay', outTradeNo }
    const paid = await notify('alipay', merchantId, alipayTrade(merchantId, outTradeNo, 100, 'TRADE_SUCCESS', `2026112222001${Date.now()}`))
    expect(await paid.text()).toBe('success')
    await runDurableObjectAlarm(orderStub(env, order))
    expect(received).toEqual(['payment.succeeded'])

    // The merchant registers a refund; its query and the payment's retry both fall due.
    await makeDeliveriesDue(order)
    const refundQueries = await registerRefundQueryDue(order)
    // Alipay holds its answer to the refund query.
    const held = holdFirstAlipayRequest()
    const alarm = runDurableObjectAlarm(orderStub(env, order))
    try {
      await vi.waitFor(() => expect(received).toEqual(['payment.succeeded', 'payment.succeeded']), { timeout: 3_000 })
      await held.sent
    } finally {
      held.release()
      await alarm
    }
    expect(refundQueries.asked).toEqual(['R1'])
    // The refund the answer settled, delivered by the same run.
    expect(received).toEqual(['payment.succeeded', 'payment.succeeded', 'refund.succeeded'])
  })
})

describe("an order's alarm with a refund query due while a retry is due within the minute", () => {
  it('leaves the query to the run of the retry, which sends the retry first, then asks, then delivers what it found', async () => {
    const merchantId = 'retry-queries-wait'
    await saveQueryingMerchant(merchantId)
    let failing = true
    const received: string[] = []
    network.use(
      http.post(forwardUrl(merchantId), async ({ request }) => {
        received.push(((await request.json()) as { type: string }).type)
        return failing ? new HttpResponse('busy', { status: 503 }) : HttpResponse.text('ok')
      }),
    )
    const outTradeNo = freshOrderNo('RBQW')
    const order: OrderRef = { merchantId, provider: 'alipay', outTradeNo }
    const paid = await notify('alipay', merchantId, alipayTrade(merchantId, outTradeNo, 100, 'TRADE_SUCCESS', `2026112222001${Date.now()}`))
    expect(await paid.text()).toBe('success')
    const stub = orderStub(env, order)
    await runDurableObjectAlarm(stub)
    // The first attempt failed: its retry is due in about 5 s. A refund's query falls due meanwhile.
    const refundQueries = await registerRefundQueryDue(order)
    await runDurableObjectAlarm(stub)
    expect(refundQueries.asked).toEqual([])
    const { retryAt, alarm } = await inOrderStore(order, async (store, state) => ({
      retryAt: store.deliveries.headOfLine()!.nextAttemptAt,
      alarm: await state.storage.getAlarm(),
    }))
    expect(alarm).toBe(retryAt)
    // The retry's run: the retry first (it lands), then the query, and the refund it settled.
    failing = false
    await makeDeliveriesDue(order)
    await runDurableObjectAlarm(stub)
    expect(refundQueries.asked).toEqual(['R1'])
    expect(received).toEqual(['payment.succeeded', 'payment.succeeded', 'refund.succeeded'])
  })
})

/**
 * A paid Alipay order of a querying merchant, its deliveries' last attempt due, and refund R1's query due: Alipay
 * answers it settled, or (`settled: false`) knows of no refund yet.
 */
async function lastAttemptAndRefundQueryDue(
  merchantId: string,
  { settled = true, log = { asked: [] } as QueryLog } = {},
): Promise<OrderRef> {
  await saveQueryingMerchant(merchantId)
  const outTradeNo = freshOrderNo('RBQL')
  const order: OrderRef = { merchantId, provider: 'alipay', outTradeNo }
  const paid = await notify('alipay', merchantId, alipayTrade(merchantId, outTradeNo, 100, 'TRADE_SUCCESS', `2026112222001${Date.now()}`))
  expect(await paid.text()).toBe('success')
  await makeLastAttemptDue(order)
  await registerRefundQueryDue(order, { settled, log })
  return order
}

/** The merchant's endpoint answering 500 to everything; the time of each request it got. */
function failingEndpoint(merchantId: string): number[] {
  const requests: number[] = []
  merchantEndpoint(forwardUrl(merchantId), () => {
    requests.push(Date.now())
    return 500
  })
  return requests
}

describe("an order's alarm whose refund query finds a refund after its last delivery attempt failed", () => {
  it('tells the exhaustion once, though the refund sent the delivery again in the same run (the first report’s reply lost)', async () => {
    const M = 'retry-queries-one-alert'
    const ops = opsEndpoint(M)
    merchantEndpoint(forwardUrl(M), () => 500)
    const order = await lastAttemptAndRefundQueryDue(M)
    const stub = orderStub(env, order)
    await setInstanceEnv(stub, MONITOR_REPLY_LOST)
    await runDurableObjectAlarm(stub)
    await setInstanceEnv(stub, env)
    await runMonitorAlarm(M)
    const exhausted = ops.filter((e) => e.type === 'delivery.exhausted')
    expect(exhausted.map((e) => [e.data.event_type, e.data.attempts])).toEqual([['payment.succeeded', MAX_DELIVERY_ATTEMPTS]])
  })

  it('sends nothing more to an endpoint the failed attempt made the breaker disable', async () => {
    const M = 'retry-queries-breaker'
    const requests = failingEndpoint(M)
    const order = await lastAttemptAndRefundQueryDue(M)
    // Every attempt has failed for 5 days: the next failure reported trips the breaker.
    const now = Date.now()
    await runInDurableObject(monitorStub(env, M), (_m: MerchantMonitor, state) => {
      const store = new MonitorStore(state.storage.sql)
      store.rememberMerchant(M)
      store.saveHealth({
        url: forwardUrl(M),
        failingSince: now - BREAKER_FAILING_MS - 60_000,
        lastFailureAt: now - 60_000,
        lastSuccessAt: null,
      })
    })
    const before = requests.length
    await runDurableObjectAlarm(orderStub(env, order))
    const { forward } = (await (await admin(`/admin/merchants/${M}`)).json()) as { forward: { disabled_at?: string } }
    expect(forward.disabled_at).toBeDefined()
    expect(requests.length - before).toBe(1)
    // The refund's event waits as failed for recovery, as every event of a disabled endpoint does.
    expect((await deliveryStates(order)).map((d) => [d.status, d.failure_reason])).toEqual([
      ['failed', 'endpoint_disabled'],
      ['failed', 'endpoint_disabled'],
    ])
  })

  it('sends nothing more when the breaker tripped in another isolate (past this one’s cache of merchants)', async () => {
    const M = 'retry-queries-breaker-elsewhere'
    const requests = failingEndpoint(M)
    const order = await lastAttemptAndRefundQueryDue(M)
    // The monitor, in an isolate of its own as deployed, trips the breaker on the run's report: D1 says disabled, while
    // this isolate's cache still holds the merchant as the run read it.
    const trippedElsewhere = {
      ...env,
      MONITORS: {
        getByName: () => ({
          deliveryRun: async () => {
            await env.DB.prepare(
              `UPDATE merchants SET config = json_set(config, '$.forward.disabledAt', ?1, '$.forward.disabledReason', 'failing'),
                 version = version + 1 WHERE id = ?2`,
            )
              .bind(new Date().toISOString(), M)
              .run()
          },
        }),
      },
    } as unknown as Env
    const stub = orderStub(env, order)
    await setInstanceEnv(stub, trippedElsewhere)
    const before = requests.length
    await runDurableObjectAlarm(stub)
    await setInstanceEnv(stub, env)
    expect(requests.length - before).toBe(1)
    expect((await deliveryStates(order)).map((d) => d.failure_reason)).toEqual(['endpoint_disabled', 'endpoint_disabled'])
  })

  it('drains once when the query found nothing to deliver: an unreachable monitor is tried once in the run', async () => {
    const M = 'retry-queries-nothing-found'
    merchantEndpoint(forwardUrl(M), () => 500)
    const order = await lastAttemptAndRefundQueryDue(M, { settled: false })
    let reports = 0
    const unreachable = {
      ...env,
      MONITORS: {
        getByName: () => ({
          deliveryRun: () => {
            reports++
            return Promise.reject(new Error('monitor unreachable'))
          },
        }),
      },
    } as unknown as Env
    const stub = orderStub(env, order)
    await setInstanceEnv(stub, unreachable)
    await runDurableObjectAlarm(stub)
    await setInstanceEnv(stub, env)
    expect(reports).toBe(1)
    expect(await inOrderStore(order, (store) => store.exhaustedUntold().map((e) => e.attempts))).toEqual([MAX_DELIVERY_ATTEMPTS])
  })

  it('asks all the same when the delivery step itself fails (a secret sealed under a master key since deleted)', async () => {
    const M = 'retry-queries-step-fails'
    merchantEndpoint(forwardUrl(M), () => 500)
    const log: QueryLog = { asked: [] }
    const order = await lastAttemptAndRefundQueryDue(M, { log })
    const lostKey = masterKeyring({ MASTER_KEY: btoa('a master key since deleted: 32 B'), MASTER_KEY_PREVIOUS: undefined })
    const sealedSecret = await lostKey.seal(M, 'whsec_c2VjcmV0IHNlYWxlZCB1bmRlciBhIGxvc3Qga2V5')
    // As a newer version of the merchant's settings, so that the stored copy is the one the run keeps.
    await inOrderStore(order, (store) => {
      const stored = store.forwardTarget.get()!
      store.forwardTarget.save({ ...stored, sealedSecret, merchantVersion: stored.merchantVersion + 1 }, new Date().toISOString())
    })
    await runDurableObjectAlarm(orderStub(env, order))
    expect(log.asked).toEqual(['R1'])
  })

  it('makes at most ATTEMPTS_PER_RUN attempts in the run, both drains together', async () => {
    const M = 'retry-queries-attempts'
    const received = merchantEndpoint(forwardUrl(M), () => 200)
    const order = await lastAttemptAndRefundQueryDue(M)
    // More deliveries due than one run may attempt.
    await inOrderStore(order, (store) => {
      for (let i = 0; i < ATTEMPTS_PER_RUN; i++) {
        const event = { type: 'refund.succeeded', timestamp: new Date().toISOString(), data: { n: i } } as never
        addEvent(store, event, 'alipay', Date.now())
      }
    })
    const before = received.length
    await runDurableObjectAlarm(orderStub(env, order))
    expect(received.length - before).toBe(ATTEMPTS_PER_RUN)
  })
})
