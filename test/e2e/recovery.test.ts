/**
 * Bulk recovery through the real Worker, msw as the merchant: an endpoint down for longer than the whole retry
 * schedule (about 47 h per delivery; time moved through the alarms), then one recover call. Every event arrives
 * once, with its original webhook-id, the events of one order in their order; a second call sends nothing.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DELIVERY_SCHEDULE_SECONDS, JITTER_RATIO } from '../../src/delivery/schedule'
import { cursorText } from '../../src/http/list-params'
import { orderStub, type OrderRef } from '../../src/order/order-key'
import type { OrderObject } from '../../src/order/order-object'
import { admin, FORWARD_SECRET, forwardUrl, freshPayment, notify, registerFixtureMerchant } from '../security/harness'
import { alipayRefund, deliveryStates, merchantEndpoint, opsEndpoint, runAlarmsUntil, runMonitorAlarm } from '../support/operations'
import { awaitProjection, inOrderStore, makePendingDue, objectStore } from '../support/orders'
import { setInstanceEnv } from '../support/instance-env'

const M = 'recover-acme'
const RETRY_WINDOW_MS = DELIVERY_SCHEDULE_SECONDS.reduce((sum, s) => sum + s, 0) * 1000

afterEach(() => {
  vi.useRealTimers()
})

async function recoverAs(
  merchantId: string,
  body: Record<string, unknown>,
): Promise<{ status: number; body: { recovered: number; orders: number; next_cursor: string | null } }> {
  const response = await admin(`/admin/merchants/${merchantId}/deliveries/recover`, { method: 'POST', body: JSON.stringify(body) })
  return { status: response.status, body: (await response.json()) as never }
}

const recover = (body: Record<string, unknown>) => recoverAs(M, body)

describe('an endpoint down for longer than the retry schedule, recovered with one call', () => {
  it('sends every failed event again, once, with its original webhook-id, per-order order kept; a second call sends nothing', async () => {
    // A start well after the real clock: alarms are then all in the future, and run only when the test runs them.
    vi.useFakeTimers({ toFake: ['Date'] })
    const start = Date.parse('2031-01-01T00:00:00Z')
    vi.setSystemTime(start)
    await registerFixtureMerchant(M)
    let up = false
    const received = merchantEndpoint(forwardUrl(M), () => (up ? 200 : 503))
    const ops = opsEndpoint()

    // Two orders: an Alipay payment and its partial refund (two events of one order), and a WeChat Pay v2 payment.
    const alipay = freshPayment('alipay', { amount: 1000 })
    const v2 = freshPayment('wechatpay.v2', { amount: 500 })
    expect((await notify('alipay', M, alipay)).status).toBe(200)
    expect(
      (await notify('alipay', M, alipayRefund(alipay.outTradeNo, { totalFen: 1000, refundedFen: 300, outBizNo: 'RF-1' }))).status,
    ).toBe(200)
    expect((await notify('wechatpay.v2', M, v2)).status).toBe(200)
    const orders: OrderRef[] = [
      { merchantId: M, provider: 'alipay', outTradeNo: alipay.outTradeNo },
      { merchantId: M, provider: 'wechatpay', outTradeNo: v2.outTradeNo },
    ]

    // The outage: every scheduled attempt of both payments fails, and time runs past the whole schedule. The refund
    // waits behind its payment, never sent: events reach the merchant in the order they happened.
    const settled = (ds: { status: string }[]) => ds.length === 3 && ds.filter((d) => d.status === 'failed').length === 2
    const warned: string[] = []
    const spy = vi.spyOn(console, 'warn').mockImplementation((line: unknown) => warned.push(String(line)))
    const states = await runAlarmsUntil(orders, settled).finally(() => spy.mockRestore())
    expect(states.map((d) => [d.status, d.attempts, d.failure_reason])).toEqual([
      ['failed', DELIVERY_SCHEDULE_SECONDS.length, 'retries_exhausted'],
      ['pending', 0, null],
      ['failed', DELIVERY_SCHEDULE_SECONDS.length, 'retries_exhausted'],
    ])
    // Each payment's last attempt is logged as the delivery failing, its own error beside the reason (none for a 503).
    const attempts = warned.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.event === 'delivery.attempt')
    const last = (outTradeNo: string) => attempts.filter((l) => l.out_trade_no === outTradeNo).at(-1)
    for (const outTradeNo of [alipay.outTradeNo, v2.outTradeNo]) {
      expect(last(outTradeNo)).toMatchObject({
        outcome: 'failed',
        reason: 'retries_exhausted',
        status_code: 503,
        error: null,
      })
    }
    expect(attempts.filter((l) => l.outcome === 'retry')).toHaveLength(2 * (DELIVERY_SCHEDULE_SECONDS.length - 1))
    // The whole schedule, each wait at least 0.8 of its nominal length (the jitter).
    expect(Date.now() - start).toBeGreaterThan(RETRY_WINDOW_MS * (1 - JITTER_RATIO))
    const outageIds = [...new Set(received.map((r) => r.id))]
    expect(outageIds).toHaveLength(2)
    expect(received).toHaveLength(2 * DELIVERY_SCHEDULE_SECONDS.length)
    expect(received.some((r) => r.type === 'refund.succeeded')).toBe(false)

    // Each delivery that failed for good was reported to the ops endpoint (delivery.exhausted), not the circuit
    // breaker's business: the outage lasted under 5 days.
    await runMonitorAlarm(M)
    await vi.waitFor(() => expect(ops.filter((e) => e.type === 'delivery.exhausted')).toHaveLength(2))
    expect(ops.filter((e) => e.type === 'endpoint.disabled')).toEqual([])
    expect(((await (await admin(`/admin/merchants/${M}`)).json()) as { forward: object }).forward).not.toHaveProperty('disabled_at')

    // The failures are listed as such.
    await awaitProjection(orders)
    const listed = (await (await admin(`/admin/merchants/${M}/deliveries?status=failed`)).json()) as {
      deliveries: { event_id: string; reason: string }[]
    }
    expect(listed.deliveries.map((d) => d.event_id).sort()).toEqual([...outageIds].sort())
    expect(listed.deliveries.every((d) => d.reason === 'retries_exhausted')).toBe(true)

    // The merchant is back. One call recovers everything since the outage began; the refund follows its payment.
    up = true
    received.length = 0
    const first = await recover({ since: new Date(start - 60_000).toISOString(), status: 'failed' })
    expect(first).toEqual({ status: 202, body: { recovered: 2, orders: 2, next_cursor: null } })
    await runAlarmsUntil(orders, (ds) => ds.every((d) => d.status === 'delivered'))
    expect(received).toHaveLength(3)
    expect(received.map((r) => r.id)).toEqual(expect.arrayContaining(outageIds))
    // The order's events in their order: the payment (with its webhook-id) before its refund.
    const alipayReceived = received.filter((r) => r.data.out_trade_no === alipay.outTradeNo)
    expect(alipayReceived.map((r) => r.type)).toEqual(['payment.succeeded', 'refund.succeeded'])
    expect(outageIds).toContain(alipayReceived[0]!.id)
    // Freshly signed, verifiable with the merchant's secret.
    const webhook = new Webhook(FORWARD_SECRET.slice('whsec_'.length))
    for (const r of received) {
      expect(() =>
        webhook.verify(r.body, { 'webhook-id': r.id, 'webhook-timestamp': r.timestamp, 'webhook-signature': r.signature }),
      ).not.toThrow()
    }

    // A second call (and any number after it) sends nothing more.
    const second = await recover({ since: new Date(start - 60_000).toISOString(), status: 'failed' })
    expect(second.body.recovered).toBe(0)
    await runAlarmsUntil(orders, (ds) => ds.every((d) => d.status === 'delivered'))
    expect(received).toHaveLength(3)
  })

  it('leaves a delivery whose retry is due alone, refuses while the endpoint is disabled, and pages through orders', async () => {
    const merchantId = 'recover-paged'
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2031-02-01T00:00:00Z'))
    await registerFixtureMerchant(merchantId)
    let failing = true
    const received = merchantEndpoint(forwardUrl(merchantId), () => (failing ? 500 : 200))
    const payments = [freshPayment('alipay'), freshPayment('alipay'), freshPayment('alipay')]
    for (const payment of payments) expect((await notify('alipay', merchantId, payment)).status).toBe(200)
    const orders = payments.map((p): OrderRef => ({ merchantId, provider: 'alipay', outTradeNo: p.outTradeNo }))
    // One attempt each: all pending, a retry due later. Nothing is failed, so there is nothing to recover.
    await runAlarmsUntil(orders, (ds) => ds.length === 3 && ds.every((d) => d.attempts === 1))
    const since = new Date(Date.now() - 3_600_000).toISOString()
    const response = await admin(`/admin/merchants/${merchantId}/deliveries/recover`, {
      method: 'POST',
      body: JSON.stringify({ since, status: 'failed' }),
    })
    expect(await response.json()).toEqual({ recovered: 0, orders: 0, next_cursor: null })
    expect((await deliveryStates(orders[0]!))[0]).toMatchObject({ status: 'pending', attempts: 1 })

    // An operator disables the endpoint: when their retries come due, the deliveries fail without a request.
    const sentBefore = received.length
    expect((await admin(`/admin/merchants/${merchantId}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    for (const order of orders) {
      await runInDurableObject(orderStub(env, order), (_o: OrderObject, _state) => {
        makePendingDue(objectStore(_o))
      })
      await runDurableObjectAlarm(orderStub(env, order))
    }
    const states = (await Promise.all(orders.map(deliveryStates))).flat()
    expect(states.map((d) => [d.status, d.failure_reason])).toEqual(Array(3).fill(['failed', 'endpoint_disabled']))
    expect(received).toHaveLength(sentBefore)
    const refused = await admin(`/admin/merchants/${merchantId}/deliveries/recover`, {
      method: 'POST',
      body: JSON.stringify({ since, status: 'failed' }),
    })
    expect(refused.status).toBe(409)

    // Enabled again (sends nothing by itself), then recovered one order per call, following next_cursor.
    const before = received.length
    expect((await admin(`/admin/merchants/${merchantId}/endpoint/enable`, { method: 'POST' })).status).toBe(200)
    failing = false
    for (const order of orders) await runDurableObjectAlarm(orderStub(env, order))
    expect(received).toHaveLength(before)
    await awaitProjection(orders)
    vi.setSystemTime(Date.now() + 1000)
    let cursor: string | undefined
    let recovered = 0
    let calls = 0
    do {
      const page = (await (
        await admin(`/admin/merchants/${merchantId}/deliveries/recover`, {
          method: 'POST',
          body: JSON.stringify({ since, status: 'failed', limit: 1, ...(cursor ? { cursor } : {}) }),
        })
      ).json()) as { recovered: number; orders: number; next_cursor: string | null }
      recovered += page.recovered
      calls += 1
      cursor = page.next_cursor ?? undefined
    } while (cursor !== undefined)
    expect(recovered).toBe(3)
    expect(calls).toBe(3)
    for (const order of orders) await runDurableObjectAlarm(orderStub(env, order))
    expect(
      received
        .slice(before)
        .map((r) => r.data.out_trade_no)
        .sort(),
    ).toEqual(payments.map((p) => p.outTradeNo).sort())
  })

  it('pages by creation time, ties broken by id: every failed delivery is sent again once, an order split over pages too', async () => {
    const merchantId = 'recover-walk'
    vi.useFakeTimers({ toFake: ['Date'] })
    const t0 = Date.parse('2031-04-01T00:00:00Z')
    vi.setSystemTime(t0)
    await registerFixtureMerchant(merchantId)
    const received = merchantEndpoint(forwardUrl(merchantId), () => 200)
    expect((await admin(`/admin/merchants/${merchantId}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    // Four payments created at the same instant (one page each: their order is their ids'), then B a second later,
    // then A's refund: A's two failed deliveries are on the first pages and the last, with B's page between them.
    const [a, b, ...rest] = Array.from({ length: 5 }, () => freshPayment('alipay', { amount: 1000 }))
    for (const payment of [a!, ...rest]) expect((await notify('alipay', merchantId, payment)).status).toBe(200)
    vi.setSystemTime(t0 + 1000)
    expect((await notify('alipay', merchantId, b!)).status).toBe(200)
    vi.setSystemTime(t0 + 2000)
    const refund = alipayRefund(a!.outTradeNo, { totalFen: 1000, refundedFen: 300, outBizNo: 'RF-WALK' })
    expect((await notify('alipay', merchantId, refund)).status).toBe(200)
    const orders = [a!, b!, ...rest].map((p): OrderRef => ({ merchantId, provider: 'alipay', outTradeNo: p.outTradeNo }))
    const failed = await runAlarmsUntil(orders, (ds) => ds.length === 6 && ds.every((d) => d.status === 'failed'))
    await awaitProjection(orders)
    const { results: created } = await env.DB.prepare(
      `SELECT created_at, count(*) AS n FROM deliveries WHERE merchant_id = ? AND status = 'failed' GROUP BY created_at ORDER BY created_at`,
    )
      .bind(merchantId)
      .all<{ created_at: string; n: number }>()
    expect(created.map((row) => row.n)).toEqual([4, 1, 1])

    expect((await admin(`/admin/merchants/${merchantId}/endpoint/enable`, { method: 'POST' })).status).toBe(200)
    vi.setSystemTime(t0 + 3000)
    const walk = async () => {
      const pages: { recovered: number; orders: number }[] = []
      let cursor: string | undefined
      do {
        const page = await recoverAs(merchantId, { since: new Date(t0).toISOString(), status: 'failed', limit: 1, cursor })
        expect(page.status).toBe(202)
        pages.push({ recovered: page.body.recovered, orders: page.body.orders })
        cursor = page.body.next_cursor ?? undefined
      } while (cursor !== undefined)
      return pages
    }
    const pages = await walk()
    // Six pages of one object each: A twice (its second call finds nothing failed), every delivery queued once.
    expect(pages.map((p) => p.orders)).toEqual([1, 1, 1, 1, 1, 1])
    expect(pages.reduce((sum, p) => sum + p.recovered, 0)).toBe(failed.length)
    expect(pages.filter((p) => p.recovered === 0)).toHaveLength(1)
    await runAlarmsUntil(orders, (ds) => ds.every((d) => d.status === 'delivered'))
    expect(received).toHaveLength(6)
    expect(new Set(received.map((r) => r.id)).size).toBe(6)
    await awaitProjection(orders)
    expect((await walk()).map((p) => p.recovered)).toEqual([0])
  })

  it('refuses a cursor written before recoveries walked by time, and one it never wrote, with 400', async () => {
    await registerFixtureMerchant('recover-cursor')
    const since = '2026-11-20T00:00:00Z'
    const old = btoa(JSON.stringify(['alipay', '', 'ORDER-1']))
    // And the next version's, which named no recovery: `{"after": [created_at, id]}`.
    const unbound = btoa(JSON.stringify({ after: ['2026-11-20T01:00:00.000Z', 'dlv_1'] }))
    for (const cursor of [old, unbound]) {
      const before = await recoverAs('recover-cursor', { since, status: 'failed', cursor })
      expect(before.status).toBe(400)
      expect(before.body).toMatchObject({
        error: { code: 'invalid_request', message: expect.stringMatching(/^cursor: from an earlier version/) },
      })
    }
    // A cursor continues only the recovery that returned it: the same merchant and window.
    const position = ['2026-11-20T01:00:00.000Z', 'dlv_1']
    const ofRecovery = (merchantId: string, from: string) =>
      cursorText({ list: 'recover', merchantId, window: { since: from, until: null } }, position)
    expect(
      (await recoverAs('recover-cursor', { since, status: 'failed', cursor: ofRecovery('recover-cursor', `${since.slice(0, -1)}.000Z`) }))
        .status,
    ).toBe(202)
    for (const cursor of [
      ofRecovery('recover-other', '2026-11-20T00:00:00.000Z'),
      ofRecovery('recover-cursor', '2026-11-19T00:00:00.000Z'),
    ]) {
      expect(await recoverAs('recover-cursor', { since, status: 'failed', cursor })).toEqual({
        status: 400,
        body: {
          error: {
            code: 'invalid_request',
            message:
              'cursor: returned by another list; a cursor continues only the list that returned it (the same list of the same merchant)',
          },
        },
      })
    }
    for (const cursor of ['nonsense', btoa(JSON.stringify({ after: ['not a time', 'dlv_1'] })), btoa('{}')]) {
      const reply = await recoverAs('recover-cursor', { since, status: 'failed', cursor })
      expect([reply.status, reply.body]).toEqual([
        400,
        { error: { code: 'invalid_request', message: 'cursor: not a cursor returned by this endpoint' } },
      ])
    }
  })

  it('a delivery that failed for good outlives its order’s compaction: recover still sends it, with its webhook-id', async () => {
    const merchantId = 'recover-compacted'
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2031-03-01T00:00:00Z'))
    await registerFixtureMerchant(merchantId)
    const received = merchantEndpoint(forwardUrl(merchantId), () => 200)
    const payment = freshPayment('alipay')
    expect((await notify('alipay', merchantId, payment)).status).toBe(200)
    const order: OrderRef = { merchantId, provider: 'alipay', outTradeNo: payment.outTradeNo }
    const stub = orderStub(env, order)
    // Retention of zero days: the order is compacted as soon as it has nothing left to do.
    await setInstanceEnv(stub, { ...env, ORDER_RETENTION_DAYS: '0' } as unknown as Env)
    expect((await admin(`/admin/merchants/${merchantId}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    await runDurableObjectAlarm(stub)
    vi.setSystemTime(Date.now() + 1000)
    await runDurableObjectAlarm(stub)
    const [failed] = await deliveryStates(order)
    expect(failed).toMatchObject({ status: 'failed', failure_reason: 'endpoint_disabled' })
    const kept = await inOrderStore(order, (store) => ({ compactedAt: store.compactedAt(), events: store.events.all().map((e) => e.id) }))
    expect(kept.compactedAt).not.toBeNull()
    expect(kept.events).toHaveLength(1)
    expect(received).toEqual([])

    expect((await admin(`/admin/merchants/${merchantId}/endpoint/enable`, { method: 'POST' })).status).toBe(200)
    await awaitProjection([order])
    const since = new Date(Date.now() - 3_600_000).toISOString()
    const response = await admin(`/admin/merchants/${merchantId}/deliveries/recover`, {
      method: 'POST',
      body: JSON.stringify({ since, status: 'failed' }),
    })
    expect(await response.json()).toEqual({ recovered: 1, orders: 1, next_cursor: null })
    await runDurableObjectAlarm(stub)
    expect(received.map((r) => [r.type, r.data.out_trade_no])).toEqual([['payment.succeeded', payment.outTradeNo]])
    expect(received.map((r) => r.id)).toEqual(kept.events)
    // Delivered, it is what the merchant received: the next compaction drops it, and nothing is left to recover.
    const again = await admin(`/admin/merchants/${merchantId}/deliveries/recover`, {
      method: 'POST',
      body: JSON.stringify({ since, status: 'failed' }),
    })
    expect(await again.json()).toMatchObject({ recovered: 0 })
  })

  it('after the retry schedule ends: the refund waits, a replay sends payment then refund once each, then compaction', async () => {
    const merchantId = 'replay-exhausted'
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2031-05-01T00:00:00Z'))
    await registerFixtureMerchant(merchantId)
    let up = false
    const received = merchantEndpoint(forwardUrl(merchantId), () => (up ? 200 : 503))
    const payment = freshPayment('alipay', { amount: 1000 })
    expect((await notify('alipay', merchantId, payment)).status).toBe(200)
    const order: OrderRef = { merchantId, provider: 'alipay', outTradeNo: payment.outTradeNo }
    const stub = orderStub(env, order)
    await setInstanceEnv(stub, { ...env, ORDER_RETENTION_DAYS: '0' } as unknown as Env)
    const refund = alipayRefund(payment.outTradeNo, { totalFen: 1000, refundedFen: 300, outBizNo: 'RF-X' })
    expect((await notify('alipay', merchantId, refund)).status).toBe(200)
    const [paid, refunded] = await runAlarmsUntil([order], (ds) => ds[0]?.status === 'failed')
    expect(paid).toMatchObject({ status: 'failed', failure_reason: 'retries_exhausted', attempts: 11 })
    // Never attempted, never failed: it waits behind the payment, and keeps the order from its tombstone.
    expect(refunded).toMatchObject({ status: 'pending', attempts: 0 })
    await runDurableObjectAlarm(stub)
    expect(await inOrderStore(order, (store) => store.compactedAt())).toBeNull()
    const shown = async () =>
      (await (await admin(`/admin/merchants/${merchantId}/orders/${payment.outTradeNo}`)).json()) as {
        compacted_at: string | null
        events: unknown[]
      }
    expect((await shown()).compacted_at).toBeNull()
    await awaitProjection([order])

    up = true
    expect((await admin(`/admin/deliveries/${paid!.id}/replay`, { method: 'POST' })).status).toBe(202)
    await runDurableObjectAlarm(stub)
    const tail = received.slice(11).map((r) => [r.type, r.id])
    expect(tail).toEqual([
      ['payment.succeeded', received[0]!.id],
      ['refund.succeeded', tail[1]![1]],
    ])
    // Both delivered: the order keeps its tombstone, and D1 (the lists) says delivered for both.
    expect(await inOrderStore(order, (store) => [store.compactedAt() !== null, store.events.all().length])).toEqual([true, 0])
    // The order says when: its timeline now begins after what it no longer keeps.
    expect(await shown()).toMatchObject({ compacted_at: await inOrderStore(order, (store) => store.compactedAt()), events: [] })
    await vi.waitFor(async () => {
      const listed = (await (await admin(`/admin/merchants/${merchantId}/deliveries`)).json()) as { deliveries: { status: string }[] }
      expect(listed.deliveries.map((d) => d.status)).toEqual(['delivered', 'delivered'])
    })
    // Nothing left to send: a replay of the compacted event answers 404, saying why, as its GET does; a recover queues nothing.
    for (const compacted of [admin(`/admin/deliveries/${paid!.id}/replay`, { method: 'POST' }), admin(`/admin/deliveries/${paid!.id}`)]) {
      const response = await compacted
      expect(response.status).toBe(404)
      expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
        `delivery ${paid!.id} is no longer kept: its order passed its retention date (ORDER_RETENTION_DAYS) and its event was dropped; the deliveries list keeps its status`,
      )
    }
    const since = '2031-01-01T00:00:00Z'
    const again = await admin(`/admin/merchants/${merchantId}/deliveries/recover`, {
      method: 'POST',
      body: JSON.stringify({ since, status: 'failed' }),
    })
    expect(await again.json()).toMatchObject({ recovered: 0 })
    expect(received).toHaveLength(13)
  })

  it('names the bad field of a recover request', async () => {
    await registerFixtureMerchant('recover-invalid')
    const post = (body: unknown) =>
      admin('/admin/merchants/recover-invalid/deliveries/recover', { method: 'POST', body: JSON.stringify(body) }).then(
        async (r) => [r.status, ((await r.json()) as { error: { message: string } }).error.message] as const,
      )
    expect(await post({ status: 'failed' })).toEqual([400, 'since: is required'])
    expect(await post({ since: 'yesterday', status: 'failed' })).toEqual([400, 'since: an ISO-8601 instant such as 2026-11-25T12:00:00Z'])
    expect(await post({ since: '2026-11-20T00:00:00Z', status: 'pending' })).toEqual([400, 'status: one of failed'])
    expect(await post({ since: '2026-11-20T00:00:00Z', status: 'failed', limit: 0 })).toEqual([400, 'limit: an integer from 1 to 500'])
    expect(await post({ since: '2026-11-20T00:00:00Z', status: 'failed', extra: 1 })).toEqual([
      400,
      'extra: unknown field (expected one of since, until, status, limit, cursor)',
    ])
  })
})
