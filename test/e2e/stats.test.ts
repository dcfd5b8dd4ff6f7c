/**
 * `GET /admin/merchants/{id}/stats` through the real Worker: the counts match what the test sent (notifications
 * accepted, duplicate, rejected by reason; deliveries delivered, failed, pending; attempt latency), over a window
 * and per hour, from the counters the projection keeps (one D1 row per merchant and minute).
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { orderStub } from '../../src/order/order-key'
import { admin, fixturePost, forwardUrl, freshPayment, notify, registerFixtureMerchant, registerOrder } from '../security/harness'
import alipayFixtures from '../fixtures/alipay.json'
import { alipayRefund } from '../support/operations'
import { awaitProjection } from '../support/orders'
import { network } from '../msw'

const M = 'stats-acme'

afterEach(() => {
  vi.useRealTimers()
})

interface Stats {
  notifications: { accepted: number; duplicate: number; rejected: number; rejected_by_reason: Record<string, number> }
  deliveries: {
    delivered: number
    failed: number
    pending: number
    success_rate: number | null
    latency_ms: { p50: number | null; p95: number | null }
  }
  since: string
  until: string
  series?: {
    start: string
    notifications: { accepted: number; duplicate: number; rejected: number }
    deliveries: { delivered: number; failed: number }
  }[]
}

async function stats(query: string): Promise<Stats> {
  const response = await admin(`/admin/merchants/${M}/stats${query}`)
  expect(response.status).toBe(200)
  return (await response.json()) as Stats
}

describe('per-merchant stats', () => {
  it('match what the test sent, in total and per hour, and count nothing outside the window', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const start = Date.parse('2031-06-01T10:00:00Z')
    vi.setSystemTime(start)
    await registerFixtureMerchant(M)
    // The merchant takes every event but two: one order's answers 500 (stays pending), another's 410 (failed).
    let pendingNo = ''
    let goneNo = ''
    network.use(
      http.post(forwardUrl(M), async ({ request }) => {
        const event = (await request.json()) as { data: { out_trade_no: string } }
        const status = event.data.out_trade_no === goneNo ? 410 : event.data.out_trade_no === pendingNo ? 500 : 200
        return new HttpResponse(status === 200 ? 'ok' : 'no', { status })
      }),
    )

    // Hour 1: three payments accepted (one sent twice: a duplicate), one forged (signature_invalid).
    const channels = ['alipay', 'wechatpay.v2', 'wechatpay.v3'] as const
    const payments = channels.map((channel) => freshPayment(channel))
    for (const [i, channel] of channels.entries()) expect((await notify(channel, M, payments[i]!)).status).toBeLessThan(300)
    expect((await notify('alipay', M, payments[0]!)).status).toBe(200)
    expect((await notify('alipay', M, fixturePost('alipay', alipayFixtures.cases.tamperedAmount))).status).toBeGreaterThanOrEqual(400)
    const refs = [
      { merchantId: M, provider: 'alipay', outTradeNo: payments[0]!.outTradeNo },
      { merchantId: M, provider: 'wechatpay', outTradeNo: payments[1]!.outTradeNo },
      { merchantId: M, provider: 'wechatpay', outTradeNo: payments[2]!.outTradeNo },
    ]
    for (const ref of refs) await runDurableObjectAlarm(orderStub(env, ref))

    // Hour 2: a payment of the wrong amount for a registered order (amount_mismatch), a pending one, a gone one.
    vi.setSystemTime(start + 3_600_000)
    const mismatch = freshPayment('alipay', { amount: 200 })
    await registerOrder(M, mismatch.outTradeNo, 100)
    expect((await notify('alipay', M, mismatch)).status).toBe(409)
    const pending = freshPayment('alipay')
    pendingNo = pending.outTradeNo
    expect((await notify('alipay', M, pending)).status).toBe(200)
    await runDurableObjectAlarm(orderStub(env, { merchantId: M, provider: 'alipay', outTradeNo: pending.outTradeNo }))
    // Last: its 410 disables the endpoint for the whole merchant.
    const gone = freshPayment('alipay')
    goneNo = gone.outTradeNo
    expect((await notify('alipay', M, gone)).status).toBe(200)
    await runDurableObjectAlarm(orderStub(env, { merchantId: M, provider: 'alipay', outTradeNo: gone.outTradeNo }))
    await runDurableObjectAlarm(orderStub(env, { merchantId: M, provider: 'alipay', outTradeNo: mismatch.outTradeNo }))

    vi.setSystemTime(start + 2 * 3_600_000)
    const expected: Stats = {
      notifications: {
        accepted: 5,
        duplicate: 1,
        rejected: 2,
        rejected_by_reason: { signature_invalid: 1, amount_mismatch: 1 },
      },
      deliveries: { delivered: 3, failed: 1, pending: 1, success_rate: 0.75, latency_ms: { p50: 25, p95: 25 } },
      since: new Date(start - 60_000).toISOString(),
      until: new Date(start + 2 * 3_600_000).toISOString(),
    }
    await vi.waitFor(async () => expect(await stats(`?since=${expected.since}&until=${expected.until}`)).toEqual(expected))

    // The counters are per minute: a window inside one minute counts that whole minute, every figure alike, and the
    // reply names the window it counted.
    const within = await stats(`?since=${new Date(start + 10_000).toISOString()}&until=${new Date(start + 20_000).toISOString()}`)
    expect(within).toMatchObject({
      since: new Date(start).toISOString(),
      until: new Date(start + 60_000).toISOString(),
      notifications: { accepted: 3, duplicate: 1, rejected: 1, rejected_by_reason: { signature_invalid: 1 } },
    })

    // The default window is the last 24 hours, and per hour the series adds up to the same.
    expect((await stats('')).notifications).toEqual(expected.notifications)
    const hourly = await stats(`?since=${new Date(start).toISOString()}&until=${expected.until}&interval=hour`)
    expect(
      hourly.series!.map((p) => [
        p.start,
        p.notifications.accepted,
        p.notifications.duplicate,
        p.notifications.rejected,
        p.deliveries.delivered,
        p.deliveries.failed,
      ]),
    ).toEqual([
      // The forged one (refused before any order) in its hour, the amount mismatch in the next.
      [new Date(start).toISOString(), 3, 1, 1, 3, 0],
      [new Date(start + 3_600_000).toISOString(), 2, 0, 1, 0, 1],
    ])
    expect(hourly.notifications.rejected).toBe(2)

    // The endpoint is back: the gone order's failed delivery is recovered and delivered. Its failure is taken back
    // from the minute that counted it, in the totals and the series alike (two audits read 1 failed after the recovery
    // as one still standing), and the delivery counts where it landed.
    goneNo = ''
    vi.setSystemTime(start + 5_400_000) // in hour 2, inside the window
    expect((await admin(`/admin/merchants/${M}/endpoint/enable`, { method: 'POST' })).status).toBe(200)
    const recovered = await admin(`/admin/merchants/${M}/deliveries/recover`, {
      method: 'POST',
      body: JSON.stringify({ since: new Date(start).toISOString(), status: 'failed' }),
    })
    expect(await recovered.json()).toMatchObject({ recovered: 1 })
    await runDurableObjectAlarm(orderStub(env, { merchantId: M, provider: 'alipay', outTradeNo: gone.outTradeNo }))
    vi.setSystemTime(start + 2 * 3_600_000)
    await vi.waitFor(async () =>
      expect((await stats(`?since=${expected.since}&until=${expected.until}`)).deliveries).toEqual({
        delivered: 4,
        failed: 0,
        pending: 1,
        success_rate: 1,
        latency_ms: { p50: 25, p95: 25 },
      }),
    )
    const hourlyAfter = await stats(`?since=${new Date(start).toISOString()}&until=${expected.until}&interval=hour`)
    expect(hourlyAfter.series!.map((p) => [p.deliveries.delivered, p.deliveries.failed])).toEqual([
      [3, 0],
      [1, 0],
    ])

    // A window before any of it counts nothing.
    const before = await stats(`?since=2031-05-01T00:00:00Z&until=2031-05-02T00:00:00Z`)
    expect(before.notifications).toEqual({ accepted: 0, duplicate: 0, rejected: 0, rejected_by_reason: {} })
    expect(before.deliveries).toEqual({ delivered: 0, failed: 0, pending: 0, success_rate: null, latency_ms: { p50: null, p95: null } })
  })

  it('count each accepted notification in its own hour, even when its order’s hand-off came after a later one', async () => {
    const merchantId = 'stats-late-hand-off'
    const at = (iso: string) => vi.setSystemTime(Date.parse(iso))
    vi.useFakeTimers({ toFake: ['Date'] })
    at('2032-02-01T10:00:00Z')
    await registerFixtureMerchant(merchantId)
    network.use(http.post(forwardUrl(merchantId), () => HttpResponse.text('ok')))
    const payment = freshPayment('alipay', { amount: 1000 })
    expect((await notify('alipay', merchantId, payment)).status).toBe(200)
    // The order's alarm (its delivery, its hand-off to D1) first runs after the refund, an hour later.
    at('2032-02-01T11:00:00Z')
    const refund = alipayRefund(payment.outTradeNo, { totalFen: 1000, refundedFen: 100, outBizNo: 'RF-late-hand-off' })
    expect((await notify('alipay', merchantId, refund)).status).toBe(200)
    const order = { merchantId, provider: 'alipay' as const, outTradeNo: payment.outTradeNo }
    await runDurableObjectAlarm(orderStub(env, order))
    await awaitProjection([order])
    const accepted = async (since: string, until: string) =>
      ((await (await admin(`/admin/merchants/${merchantId}/stats?since=${since}&until=${until}`)).json()) as Stats).notifications.accepted
    await vi.waitFor(async () => {
      expect([
        await accepted('2032-02-01T10:00:00Z', '2032-02-01T11:00:00Z'),
        await accepted('2032-02-01T11:00:00Z', '2032-02-01T12:00:00Z'),
      ]).toEqual([1, 1])
    })
  })

  it('names the bad parameter', async () => {
    await registerFixtureMerchant('stats-invalid')
    const error = async (query: string) =>
      ((await (await admin(`/admin/merchants/stats-invalid/stats${query}`)).json()) as { error: { message: string } }).error.message
    expect(await error('?since=yesterday')).toBe('since: an ISO-8601 instant such as 2026-11-25T12:00:00Z')
    expect(await error('?interval=week')).toBe('interval: one of minute, hour, day')
    expect(await error('?since=2031-01-02T00:00:00Z&until=2031-01-01T00:00:00Z')).toBe('until: must be after since')
    expect(await error('?since=2020-01-01T00:00:00Z&until=2031-01-01T00:00:00Z&interval=minute')).toMatch(
      /^interval: the window would have more than 1500 points/,
    )
    expect((await admin('/admin/merchants/stats-nobody/stats')).status).toBe(404)
  })
})
