/**
 * An endpoint's lifecycle through the real Worker, msw as the merchant and as the ops endpoint: the circuit breaker
 * disables an endpoint whose every attempt has failed for 5 days and says so to OPS_WEBHOOK_URL; a 410 disables it
 * too; an operator disables and enables it (each told to the ops endpoint), and enabling sends nothing by itself.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { Webhook } from 'standardwebhooks'
import { http, HttpResponse } from 'msw'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MAX_DELIVERY_ATTEMPTS } from '../../src/delivery/schedule'
import { BREAKER_FAILING_MS } from '../../src/ops/breaker'
import { orderStub, type OrderRef } from '../../src/order/order-key'
import { admin, forwardUrl, freshPayment, merchantBody, notify, registerFixtureMerchant } from '../security/harness'
import {
  alipayRefund,
  deliveryStates,
  merchantEndpoint,
  MONITOR_REPLY_LOST,
  opsEndpoint,
  runAlarmsUntil,
  runMonitorAlarm,
  type Received,
} from '../support/operations'
import { network } from '../msw'
import { awaitProjection, inOrderStore, PROJECTION_WAIT, makeLastAttemptDue } from '../support/orders'
import { merchantReplica, type MerchantReplica } from '../../src/merchants/merchant-replica'
import { enableEndpointByOperator, monitorStub } from '../../src/ops/monitor'
import type { MerchantMonitor } from '../../src/ops/monitor-object'
import { setInstanceEnv } from '../support/instance-env'

const OPS_SECRET = env.OPS_WEBHOOK_SECRET!
/** The env of an order object whose merchant's monitor cannot be reached. */
const WITHOUT_MONITORS = {
  ...env,
  MONITORS: { getByName: () => ({ deliveryRun: () => Promise.reject(new Error('monitor unreachable')) }) },
} as unknown as Env

afterEach(() => {
  vi.useRealTimers()
})

/** Checks an operational webhook's Standard Webhooks signature with the ops secret. */
function verifyOps(event: Received): void {
  new Webhook(OPS_SECRET.slice('whsec_'.length)).verify(event.body, {
    'webhook-id': event.id,
    'webhook-timestamp': event.timestamp,
    'webhook-signature': event.signature,
  })
}

async function merchantForward(merchantId: string): Promise<{ url: string; disabled_at?: string; disabled_reason?: string }> {
  return ((await (await admin(`/admin/merchants/${merchantId}`)).json()) as { forward: { url: string } }).forward
}

async function pay(merchantId: string): Promise<OrderRef> {
  const payment = freshPayment('alipay')
  expect((await notify('alipay', merchantId, payment)).status).toBe(200)
  return { merchantId, provider: 'alipay', outTradeNo: payment.outTradeNo }
}

describe('the circuit breaker', () => {
  it('disables an endpoint after every attempt to it failed for 5 days, and sends endpoint.disabled to the ops URL', async () => {
    const M = 'breaker'
    vi.useFakeTimers({ toFake: ['Date'] })
    const start = Date.parse('2031-03-01T00:00:00Z')
    vi.setSystemTime(start)
    await registerFixtureMerchant(M)
    const received = merchantEndpoint(forwardUrl(M), () => 500)
    const ops = opsEndpoint()

    // A new order every two days keeps attempts coming after each one's ~47 h of retries ran out.
    const orders: OrderRef[] = []
    let lastSeenEnabled = 0
    while (Date.now() - start < BREAKER_FAILING_MS) {
      const order = await pay(M)
      orders.push(order)
      await runAlarmsUntil([order], (ds) => ds.every((d) => d.status === 'failed'))
      if ((await merchantForward(M)).disabled_at === undefined) lastSeenEnabled = Date.now() - start
      vi.setSystemTime(Math.max(Date.now(), start + orders.length * 2 * 86_400_000))
    }
    const forward = await merchantForward(M)
    expect(forward.disabled_reason).toBe('failing')
    expect(Date.parse(forward.disabled_at!) - start).toBeGreaterThanOrEqual(BREAKER_FAILING_MS)
    // Not before: after almost four days of failures it was still enabled.
    expect(lastSeenEnabled).toBeGreaterThan(3.5 * 86_400_000)
    expect(received.length).toBeGreaterThan(20)

    await runMonitorAlarm(M)
    await vi.waitFor(() => expect(ops.map((e) => e.type)).toContain('endpoint.disabled'))
    const disabled = ops.find((e) => e.type === 'endpoint.disabled')!
    expect(disabled.data).toMatchObject({ merchant_id: M, url: forwardUrl(M), reason: 'failing', disabled_at: forward.disabled_at })
    expect(Date.parse(disabled.data.failing_since as string)).toBe(start)
    expect(() => verifyOps(disabled)).not.toThrow()
    // Retries ran out for each order along the way: delivery.exhausted for each.
    expect(ops.filter((e) => e.type === 'delivery.exhausted').map((e) => e.data.out_trade_no)).toEqual(
      expect.arrayContaining(orders.slice(0, -1).map((o) => o.outTradeNo)),
    )

    // Disabled: a new event is not sent at all, it waits as failed (endpoint_disabled) for recovery.
    const sent = received.length
    vi.setSystemTime(Date.now() + 60_000)
    const after = await pay(M)
    await runDurableObjectAlarm(orderStub(env, after))
    expect(await deliveryStates(after)).toMatchObject([{ status: 'failed', attempts: 0, failure_reason: 'endpoint_disabled' }])
    expect(received).toHaveLength(sent)

    // Enabled again: its history stays, and the failing streak starts afresh (another 5 days before it trips).
    const health = async () =>
      ((await (await admin(`/admin/merchants/${M}`)).json()) as { endpoint_health: Record<string, string | null> }).endpoint_health
    const before = await health()
    expect(before.failing_since).toBe(new Date(start).toISOString())
    expect((await admin(`/admin/merchants/${M}/endpoint/enable`, { method: 'POST' })).status).toBe(200)
    expect(await health()).toEqual({ ...before, failing_since: null })
    vi.setSystemTime(Date.now() + 60_000)
    const failingAgain = await pay(M)
    await runAlarmsUntil([failingAgain], (ds) => ds.every((d) => d.attempts >= 1))
    const afresh = await health()
    expect(Date.parse(afresh.failing_since!)).toBeGreaterThan(Date.parse(before.last_failure_at!))
    expect((await merchantForward(M)).disabled_at).toBeUndefined()
  })

  it('does not trip while some attempts still succeed', async () => {
    const M = 'breaker-flaky'
    vi.useFakeTimers({ toFake: ['Date'] })
    const start = Date.parse('2031-04-01T00:00:00Z')
    vi.setSystemTime(start)
    await registerFixtureMerchant(M)
    let calls = 0
    // Every 12th call succeeds: never 5 days of nothing but failures.
    merchantEndpoint(forwardUrl(M), () => (++calls % 12 === 0 ? 200 : 500))
    for (let day = 0; day < 7; day++) {
      const order = await pay(M)
      await runAlarmsUntil([order], (ds) => ds.every((d) => d.status !== 'pending'))
      // A first-attempt success reaches the monitor from the projection consumer, a moment later: wait until it has.
      const deliveredAt = await inOrderStore(order, (store) => {
        const delivery = store.deliveries.all()[0]
        return delivery?.status === 'delivered' ? Date.parse(store.deliveries.attempts(delivery.id).at(-1)!.startedAt) : null
      })
      if (deliveredAt !== null) {
        await vi.waitFor(async () => {
          expect((await monitorStub(env, M).health())?.lastSuccessAt ?? 0).toBeGreaterThanOrEqual(deliveredAt)
        }, PROJECTION_WAIT)
      }
      vi.setSystemTime(start + (day + 1) * 86_400_000)
    }
    expect(await merchantForward(M)).not.toHaveProperty('disabled_at')
  })
})

/**
 * A merchant (on fake time from `start`) whose endpoint fails everything, and an order whose last scheduled attempt is
 * run with `monitors` as the order object's env (a monitor out of reach, or one whose reply is lost); the env is then
 * put back. The ops endpoint's events are in `ops`.
 */
async function exhaustedTelling(merchantId: string, start: string, monitors: Env) {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(Date.parse(start))
  await registerFixtureMerchant(merchantId)
  merchantEndpoint(forwardUrl(merchantId), () => 500)
  const ops = opsEndpoint(merchantId)
  const order = await pay(merchantId)
  const stub = orderStub(env, order)
  await makeLastAttemptDue(order)
  await setInstanceEnv(stub, monitors)
  await runDurableObjectAlarm(stub)
  await setInstanceEnv(stub, env)
  return { ops, order, stub }
}

describe('delivery.exhausted while the merchant’s monitor cannot be reached', () => {
  it('is told by a later run of the order, once', async () => {
    const M = 'exhausted-monitor-unreachable'
    // The run that meets the last failure cannot reach the monitor (logged monitor.unreachable).
    const { ops, order, stub } = await exhaustedTelling(M, '2031-09-01T00:00:00Z', WITHOUT_MONITORS)
    expect(await deliveryStates(order)).toMatchObject([{ status: 'failed', failure_reason: 'retries_exhausted' }])
    // The order's alarm comes back a minute later and tells it; later runs tell nothing more.
    vi.setSystemTime(Date.now() + 60_000)
    await runDurableObjectAlarm(stub)
    await runDurableObjectAlarm(stub)
    await runMonitorAlarm(M)
    expect(ops.map((e) => [e.type, e.data.out_trade_no])).toEqual([['delivery.exhausted', order.outTradeNo]])
  })

  it('told again because the monitor’s reply was lost is one event, not a second alert', async () => {
    const M = 'exhausted-reply-lost'
    // The monitor takes the run's report, but its reply never reaches the order object, which tells it again later.
    const { ops, order, stub } = await exhaustedTelling(M, '2031-09-02T00:00:00Z', MONITOR_REPLY_LOST)
    vi.setSystemTime(Date.now() + 60_000)
    await runDurableObjectAlarm(stub)
    await runMonitorAlarm(M)
    expect(ops.map((e) => [e.type, e.data.out_trade_no])).toEqual([['delivery.exhausted', order.outTradeNo]])
  })

  it('kept by an earlier version as a delivery id alone is told, as the delivery now is', async () => {
    const M = 'exhausted-kept-as-id'
    const { ops, order, stub } = await exhaustedTelling(M, '2031-09-04T00:00:00Z', WITHOUT_MONITORS)
    // The head as the version before kept it: the delivery's id.
    await inOrderStore(order, (store) => {
      const [delivery] = store.deliveries.all()
      ;(store as unknown as { head: { update(change: (head: { exhaustedUntold?: unknown }) => void): void } }).head.update((head) => {
        head.exhaustedUntold = [delivery!.id]
      })
    })
    vi.setSystemTime(Date.now() + 60_000)
    await runDurableObjectAlarm(stub)
    await runMonitorAlarm(M)
    expect(ops.map((e) => [e.type, e.data.attempts])).toEqual([['delivery.exhausted', MAX_DELIVERY_ATTEMPTS]])
    expect(await inOrderStore(order, (store) => store.exhaustedUntold())).toEqual([])
  })

  it('told again after a later event sent the delivery again is still the one event, as it ran out', async () => {
    const M = 'exhausted-retold-after-requeue'
    const { ops, order, stub } = await exhaustedTelling(M, '2031-09-03T00:00:00Z', MONITOR_REPLY_LOST)
    // A refund arrives before the re-tell: the failed payment delivery goes back into the line, and is attempted again.
    vi.setSystemTime(Date.now() + 10_000)
    const refund = alipayRefund(order.outTradeNo, { totalFen: 100, refundedFen: 30, outBizNo: 'RF-1' })
    expect((await notify('alipay', M, refund)).status).toBe(200)
    vi.setSystemTime(Date.now() + 60_000)
    await runDurableObjectAlarm(stub)
    await runMonitorAlarm(M)
    const exhausted = ops.filter((e) => e.type === 'delivery.exhausted')
    expect(exhausted.map((e) => [e.data.event_type, e.data.attempts])).toEqual([['payment.succeeded', MAX_DELIVERY_ATTEMPTS]])
  })
})

describe('the endpoint’s health after the merchant moved to another URL', () => {
  it('keeps the new URL’s failing streak when a late report about the old URL comes in', async () => {
    const M = 'breaker-moved'
    const monitor = monitorStub(env, M)
    const t0 = Date.parse('2031-05-01T00:00:00Z')
    const report = (url: string, attempts: { at: number; ok: boolean }[]) =>
      monitor.deliveryRun({ merchantId: M, url, attempts, goneUrl: null, exhausted: [] })
    await report('https://old.example/hooks', [{ at: t0, ok: true }])
    // The merchant moved: every attempt to the new URL fails, from an hour later.
    await report('https://new.example/hooks', [{ at: t0 + 3_600_000, ok: false }])
    // A success of the old URL from before the move, reported late (a projection record re-driven).
    await report('https://old.example/hooks', [{ at: t0 + 60_000, ok: true }])
    expect(await monitor.health()).toEqual({
      url: 'https://new.example/hooks',
      failingSince: t0 + 3_600_000,
      lastFailureAt: t0 + 3_600_000,
      lastSuccessAt: null,
    })
    // A newer attempt to the old URL (a run still on its settings) is news, as before: the row follows it.
    await report('https://old.example/hooks', [{ at: t0 + 7_200_000, ok: true }])
    expect((await monitor.health())?.url).toBe('https://old.example/hooks')
  })
})

/** A merchant (at `start`, on fake time) whose every attempt has failed since `start`; `report` tells one more failure. */
async function failingSince(merchantId: string, start: number) {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(start)
  await registerFixtureMerchant(merchantId)
  const monitor = monitorStub(env, merchantId)
  const report = (at: number) =>
    monitor.deliveryRun({ merchantId, url: forwardUrl(merchantId), attempts: [{ at, ok: false }], goneUrl: null, exhausted: [] })
  await report(start)
  return { monitor, report }
}

describe('enabling an endpoint the breaker disabled', () => {
  it('ends its failing streak first: a failure reported before the monitor hears of the enable does not trip it again', async () => {
    const M = 'breaker-enable-race'
    const start = Date.parse('2032-01-01T00:00:00Z')
    const { monitor, report } = await failingSince(M, start)
    vi.setSystemTime(start + BREAKER_FAILING_MS)
    await report(start + BREAKER_FAILING_MS)
    expect((await merchantForward(M)).disabled_reason).toBe('failing')

    // The operator enables it; the monitor's news of it (`endpointChanged`) is lost (logged monitor.unreachable).
    const monitorClass = await runInDurableObject(
      monitor,
      (instance: MerchantMonitor) => Object.getPrototypeOf(instance) as MerchantMonitor,
    )
    const endpointChanged = monitorClass.endpointChanged
    monitorClass.endpointChanged = () => Promise.reject(new Error('monitor unreachable'))
    try {
      vi.setSystemTime(start + BREAKER_FAILING_MS + 60_000)
      expect((await admin(`/admin/merchants/${M}/endpoint/enable`, { method: 'POST' })).status).toBe(200)
    } finally {
      monitorClass.endpointChanged = endpointChanged
    }
    // A failure from before the enable, reported late, starts no streak; one after it starts a new one.
    await report(start + BREAKER_FAILING_MS - 1_000)
    expect((await monitor.health())?.failingSince).toBeNull()
    vi.setSystemTime(Date.now() + 1_000)
    await report(Date.now())
    expect((await merchantForward(M)).disabled_at).toBeUndefined()
    expect((await monitor.health())?.failingSince).toBe(Date.now())
    // The news of the enable, arriving late, keeps that streak: it began after the enable.
    await monitor.endpointChanged({ merchantId: M, state: 'enabled', url: forwardUrl(M) })
    expect((await monitor.health())?.failingSince).toBe(Date.now())
  })
})

/** `env` whose D1 runs `before` just ahead of its `n`th read of a merchant's row (another request landing then). */
function envBeforeMerchantRead(n: number, before: () => Promise<void>): Env {
  let reads = 0
  const first = (bound: D1PreparedStatement) =>
    new Proxy(bound, {
      get: (target, key) =>
        key !== 'first'
          ? Reflect.get(target, key, target)
          : async (...args: []) => {
              reads += 1
              if (reads === n) await before()
              return target.first(...args)
            },
    })
  const DB = new Proxy(env.DB, {
    get: (target, name) =>
      name !== 'prepare'
        ? Reflect.get(target, name, target)
        : (sql: string) => {
            const statement = target.prepare(sql)
            if (!sql.startsWith('SELECT config, version FROM merchants')) return statement
            return new Proxy(statement, {
              get: (st, key) => (key !== 'bind' ? Reflect.get(st, key, st) : (...values: unknown[]) => first(st.bind(...values))),
            })
          },
  })
  return { ...env, DB }
}

describe('an operator’s enable racing a breaker trip', () => {
  it.each([1, 2])('whichever lands first, an endpoint left enabled keeps no old streak (trip before read %i)', async (n) => {
    const M = `breaker-enable-trip-${n}`
    const start = Date.parse('2032-02-01T00:00:00Z')
    const { monitor, report } = await failingSince(M, start)
    // Five days of failures: the breaker trips while the operator's enable reads the merchant.
    vi.setSystemTime(start + BREAKER_FAILING_MS)
    let tripped = false
    const trip = async () => {
      tripped = true
      await report(start + BREAKER_FAILING_MS)
    }
    await enableEndpointByOperator(envBeforeMerchantRead(n, trip), M, Date.now())
    // An enable that read the merchant fewer times: the trip lands after it.
    if (!tripped) await trip()
    const after = await merchantForward(M)
    if (after.disabled_at !== undefined) {
      // The trip came after the enable read it enabled: the trip stands.
      expect(after.disabled_reason).toBe('failing')
      return
    }
    // Enabled: the streak ended with it, so the next failure starts a new one rather than tripping again.
    vi.setSystemTime(start + BREAKER_FAILING_MS + 60_000)
    await report(Date.now())
    expect((await merchantForward(M)).disabled_at).toBeUndefined()
    expect((await monitor.health())?.failingSince).toBe(Date.now())
  })
})

describe('a success reported after later failures', () => {
  it('ends the streak before it, not the one after it', async () => {
    const M = 'breaker-late-success'
    const monitor = monitorStub(env, M)
    const t0 = Date.parse('2031-06-01T00:00:00Z')
    const report = (attempts: { at: number; ok: boolean }[]) =>
      monitor.deliveryRun({ merchantId: M, url: 'https://shop.example/hooks', attempts, goneUrl: null, exhausted: [] })
    await report([{ at: t0, ok: false }])
    await report([{ at: t0 + 120_000, ok: false }])
    // First attempts' successes reach the monitor through the projection queue, after failures reported directly.
    await report([{ at: t0 + 60_000, ok: true }])
    expect(await monitor.health()).toMatchObject({ failingSince: t0 + 120_000, lastFailureAt: t0 + 120_000, lastSuccessAt: t0 + 60_000 })
  })
})

describe('disabling and enabling an endpoint', () => {
  it('on 410 Gone: disabled for the whole merchant (reason gone), and endpoint.disabled sent to the ops URL', async () => {
    const M = 'lifecycle-gone'
    await registerFixtureMerchant(M)
    merchantEndpoint(forwardUrl(M), () => 410)
    const ops = opsEndpoint()
    const order = await pay(M)
    await runDurableObjectAlarm(orderStub(env, order))
    expect(await deliveryStates(order)).toMatchObject([{ status: 'failed', failure_reason: 'endpoint_gone' }])
    expect(await merchantForward(M)).toMatchObject({ disabled_reason: 'gone' })
    await runMonitorAlarm(M)
    await vi.waitFor(() => expect(ops.map((e) => [e.type, e.data.reason])).toEqual([['endpoint.disabled', 'gone']]))
  })

  it('on a 410 the monitor never heard of (unreachable): recover sends the order’s event again, and its later events go', async () => {
    const M = 'lifecycle-gone-unheard'
    await registerFixtureMerchant(M)
    let status = 410
    const received = merchantEndpoint(forwardUrl(M), () => status)
    const order = await pay(M)
    const stub = orderStub(env, order)
    // The order object cannot reach the merchant's monitor during the run that meets the 410 (logged
    // monitor.unreachable): the endpoint is never disabled merchant-wide, so its settings stay as they were.
    await setInstanceEnv(stub, WITHOUT_MONITORS)
    await runDurableObjectAlarm(stub)
    await setInstanceEnv(stub, env)
    expect(await deliveryStates(order)).toMatchObject([{ status: 'failed', failure_reason: 'endpoint_gone' }])
    expect(await merchantForward(M)).not.toHaveProperty('disabled_at')

    // The merchant's endpoint is back; the operator recovers the failed delivery: it is sent, with its webhook-id.
    status = 200
    await awaitProjection([order])
    const since = new Date(Date.now() - 3_600_000).toISOString()
    const recovered = await admin(`/admin/merchants/${M}/deliveries/recover`, {
      method: 'POST',
      body: JSON.stringify({ since, status: 'failed' }),
    })
    expect(await recovered.json()).toMatchObject({ recovered: 1 })
    await runDurableObjectAlarm(stub)
    expect(await deliveryStates(order)).toMatchObject([{ status: 'delivered' }])
    expect(received.map((r) => [r.type, r.id])).toEqual([
      ['payment.succeeded', received[0]!.id],
      ['payment.succeeded', received[0]!.id],
    ])
    // And the order's next event goes as any other.
    const refund = alipayRefund(order.outTradeNo, { totalFen: 100, refundedFen: 30, outBizNo: 'RF-gone-1' })
    expect((await notify('alipay', M, refund)).status).toBe(200)
    await runDurableObjectAlarm(stub)
    expect(received.map((r) => r.type)).toEqual(['payment.succeeded', 'payment.succeeded', 'refund.succeeded'])
  })

  it('by an operator: each change told to the ops URL; enabling sends nothing by itself', async () => {
    const M = 'lifecycle-manual'
    await registerFixtureMerchant(M)
    const received = merchantEndpoint(forwardUrl(M), () => 200)
    const ops = opsEndpoint(M)

    const disable = await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })
    expect(disable.status).toBe(200)
    const { forward } = (await disable.json()) as { forward: { url: string; disabled_at: string; disabled_reason: string } }
    expect(forward).toMatchObject({ url: forwardUrl(M), disabled_reason: 'manual' })
    // Disabling twice changes nothing and tells nobody twice.
    expect((await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })).status).toBe(200)

    const order = await pay(M)
    await runDurableObjectAlarm(orderStub(env, order))
    expect(await deliveryStates(order)).toMatchObject([{ status: 'failed', failure_reason: 'endpoint_disabled' }])
    await vi.waitFor(async () => {
      const listed = (await (await admin(`/admin/merchants/${M}/deliveries?status=failed`)).json()) as { deliveries: { reason: string }[] }
      expect(listed.deliveries.map((d) => d.reason)).toEqual(['endpoint_disabled'])
    }, PROJECTION_WAIT)

    const enable = await admin(`/admin/merchants/${M}/endpoint/enable`, { method: 'POST' })
    expect(await enable.json()).toEqual({ forward: { url: forwardUrl(M) } })
    await runDurableObjectAlarm(orderStub(env, order))
    expect(received).toEqual([])
    expect(await deliveryStates(order)).toMatchObject([{ status: 'failed' }])

    await runMonitorAlarm(M)
    await vi.waitFor(() => expect(ops.map((e) => e.type)).toEqual(['endpoint.disabled', 'endpoint.enabled']))
    expect(ops[0]!.data).toMatchObject({ merchant_id: M, url: forwardUrl(M), reason: 'manual', disabled_at: forward.disabled_at })
    expect(ops[1]!.data).toEqual({ merchant_id: M, url: forwardUrl(M) })
    for (const event of ops) expect(() => verifyOps(event)).not.toThrow()
    // Each with its own webhook-id.
    expect(new Set(ops.map((e) => e.id)).size).toBe(2)
  })

  it('is stored and told once even when the merchant’s replica cannot take it: endpoint.disabled is not lost', async () => {
    const M = 'lifecycle-replica-down'
    await registerFixtureMerchant(M)
    const ops = opsEndpoint(M)
    const replica = merchantReplica(env, M)
    const replicaClass = await runInDurableObject(
      replica,
      (instance: MerchantReplica) => Object.getPrototypeOf(instance) as MerchantReplica,
    )
    const put = replicaClass.put
    replicaClass.put = () => Promise.reject(new Error('replica unavailable'))
    try {
      expect((await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    } finally {
      replicaClass.put = put
    }
    expect((await merchantForward(M)).disabled_reason).toBe('manual')
    // Disabling again (as after an error) changes nothing and tells nobody twice.
    expect((await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    await runMonitorAlarm(M)
    await vi.waitFor(() => expect(ops.map((e) => e.type)).toEqual(['endpoint.disabled']))
  })

  it('a PUT that enables it while the replica cannot take the save fails loudly, and the enable is still told once', async () => {
    const M = 'lifecycle-put-replica-down'
    await registerFixtureMerchant(M)
    const ops = opsEndpoint(M)
    expect((await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    const fullBody = JSON.stringify(merchantBody(M))
    const replicaClass = await runInDurableObject(
      merchantReplica(env, M),
      (instance: MerchantReplica) => Object.getPrototypeOf(instance) as MerchantReplica,
    )
    const put = replicaClass.put
    replicaClass.put = () => Promise.reject(new Error('replica unavailable'))
    let first: number
    try {
      first = (await admin(`/admin/merchants/${M}`, { method: 'PUT', body: fullBody })).status
    } finally {
      replicaClass.put = put
    }
    expect(first).toBe(500)
    expect(await merchantForward(M)).not.toHaveProperty('disabled_at')
    // Saved again, as the error asks: the replica catches up; nothing more to tell.
    expect((await admin(`/admin/merchants/${M}`, { method: 'PUT', body: fullBody })).status).toBe(200)
    await runMonitorAlarm(M)
    await vi.waitFor(() => expect(ops.map((e) => e.type)).toEqual(['endpoint.disabled', 'endpoint.enabled']))
  })

  it('a PATCH keeps the endpoint disabled, a PUT of the whole merchant enables it again', async () => {
    const M = 'lifecycle-patch'
    await registerFixtureMerchant(M)
    opsEndpoint()
    await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })
    const patched = await admin(`/admin/merchants/${M}`, { method: 'PATCH', body: JSON.stringify({ requireRegisteredOrders: true }) })
    expect(patched.status).toBe(200)
    expect(((await patched.json()) as { forward: object }).forward).toMatchObject({ disabled_reason: 'manual' })
    await registerFixtureMerchant(M)
    expect(await merchantForward(M)).not.toHaveProperty('disabled_at')
  })

  it('an event created while disabled waits as failed at once, behind an earlier delivery still mid-retry; enabling sends neither', async () => {
    const M = 'lifecycle-disabled-behind-retry'
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2031-06-01T00:00:00Z'))
    await registerFixtureMerchant(M)
    let up = false
    const received = merchantEndpoint(forwardUrl(M), () => (up ? 200 : 503))
    const order = await pay(M)
    // The payment fails 7 times: its next retry is hours away.
    await runAlarmsUntil([order], (deliveries) => deliveries[0]!.attempts >= 7)
    const [paying] = await deliveryStates(order)

    expect((await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    vi.setSystemTime(Date.now() + 60_000)
    const refund = alipayRefund(order.outTradeNo, { totalFen: 100, refundedFen: 30, outBizNo: 'RF-behind-retry' })
    expect((await notify('alipay', M, refund)).status).toBe(200)
    await runDurableObjectAlarm(orderStub(env, order))
    expect(await deliveryStates(order)).toMatchObject([
      // The merchant's last reply stays on record beside the reason.
      { status: 'failed', failure_reason: 'endpoint_disabled', attempts: 7, last_status_code: 503 },
      { status: 'failed', failure_reason: 'endpoint_disabled', attempts: 0 },
    ])

    // Enabled again and up: nothing goes until a recover, not even when the payment’s retry would have been due.
    expect((await admin(`/admin/merchants/${M}/endpoint/enable`, { method: 'POST' })).status).toBe(200)
    up = true
    vi.setSystemTime(Number(paying!.next_attempt_at) + 1000)
    await runDurableObjectAlarm(orderStub(env, order))
    expect(received.filter((r) => r.type === 'refund.succeeded')).toEqual([])
    expect((await deliveryStates(order)).map((d) => d.status)).toEqual(['failed', 'failed'])
  })

  it('by an operator while an alarm is mid-delivery: the run sends nothing more once the disable has answered', async () => {
    const M = 'lifecycle-disabled-mid-run'
    await registerFixtureMerchant(M)
    let disabled = false
    let attemptIsOut!: () => void
    let answer!: () => void
    const attemptOut = new Promise<void>((resolve) => (attemptIsOut = resolve))
    const answered = new Promise<void>((resolve) => (answer = resolve))
    const received: { type: string; afterDisable: boolean }[] = []
    network.use(
      http.post(forwardUrl(M), async ({ request }) => {
        received.push({ type: ((await request.json()) as { type: string }).type, afterDisable: disabled })
        if (received.length === 1) {
          attemptIsOut()
          await answered
        }
        return new HttpResponse('ok')
      }),
    )
    // A payment and a partial refund, both waiting in the order's outbox.
    const payment = freshPayment('alipay', { amount: 1000 })
    expect((await notify('alipay', M, payment)).status).toBe(200)
    const refund = alipayRefund(payment.outTradeNo, { totalFen: 1000, refundedFen: 300, outBizNo: 'RF-mid-run' })
    expect((await notify('alipay', M, refund)).status).toBe(200)
    const order: OrderRef = { merchantId: M, provider: 'alipay', outTradeNo: payment.outTradeNo }

    const alarm = runDurableObjectAlarm(orderStub(env, order))
    await attemptOut
    expect((await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    disabled = true
    answer()
    await alarm
    // The payment's request was out before the disable; the refund waits as failed, for a recover.
    expect(received).toEqual([{ type: 'payment.succeeded', afterDisable: false }])
    expect((await deliveryStates(order)).map((d) => [d.status, d.failure_reason])).toEqual([
      ['delivered', null],
      ['failed', 'endpoint_disabled'],
    ])
  })

  it('a PUT racing a disable never undoes it untold: the ops URL’s last word matches the endpoint’s state', async () => {
    const M = 'lifecycle-put-vs-disable'
    await registerFixtureMerchant(M)
    const ops = opsEndpoint(M)
    const body = JSON.stringify(merchantBody(M))
    const replies = await Promise.all([
      admin(`/admin/merchants/${M}`, { method: 'PUT', body }),
      admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' }),
    ])
    expect(replies.map((r) => r.status)).toEqual([200, 200])
    const disabled = (await merchantForward(M)).disabled_at !== undefined
    await runMonitorAlarm(M)
    await vi.waitFor(() =>
      expect(ops.map((e) => e.type)).toEqual(disabled ? ['endpoint.disabled'] : ['endpoint.disabled', 'endpoint.enabled']),
    )
  })

  it('two saves enabling it at once tell endpoint.enabled once: two PUTs, or a PUT and an enable', async () => {
    for (const [M, second] of [
      ['lifecycle-put-put', 'put'],
      ['lifecycle-put-enable', 'enable'],
    ] as const) {
      await registerFixtureMerchant(M)
      const ops = opsEndpoint(M)
      expect((await admin(`/admin/merchants/${M}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
      const put = () => admin(`/admin/merchants/${M}`, { method: 'PUT', body: JSON.stringify(merchantBody(M)) })
      const replies = await Promise.all([
        put(),
        second === 'put' ? put() : admin(`/admin/merchants/${M}/endpoint/enable`, { method: 'POST' }),
      ])
      expect(replies.map((r) => r.status)).toEqual([200, 200])
      expect(await merchantForward(M)).not.toHaveProperty('disabled_at')
      await runMonitorAlarm(M)
      await vi.waitFor(() => expect(ops.map((e) => e.type)).toEqual(['endpoint.disabled', 'endpoint.enabled']))
      // Nothing more comes later.
      await runMonitorAlarm(M)
      expect(ops.map((e) => e.type)).toEqual(['endpoint.disabled', 'endpoint.enabled'])
    }
  })

  it('answers 404 for an unknown merchant', async () => {
    expect((await admin('/admin/merchants/nobody-here/endpoint/disable', { method: 'POST' })).status).toBe(404)
    expect((await admin('/admin/merchants/nobody-here/endpoint/enable', { method: 'POST' })).status).toBe(404)
  })
})
