/**
 * Where two features meet, through the real Worker (round 2): held Alipay refunds × refund registration, and other
 * combinations each feature's own tests do not reach. Notifications and answers signed with node:crypto and the
 * fixtures' throwaway keys.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { http, HttpResponse } from 'msw'
import { orderStub } from '../../src/order/order-key'
import { network } from '../msw'
import { awaitProjection, inOrderStore } from '../support/orders'
import { ACCEPT, admin, forwardUrl, freshPayment, notify, orderView, ownKeys } from '../security/harness'
import { alipayForm, alipayPaymentParams, freshOrderNo, signAlipay } from '../security/signing'
import {
  ALIPAY_GATEWAY,
  alipayRefundNotify,
  alipayRefundQueryAnswers,
  receiveEvents,
  tradeQueryAnswers,
  v2RefundNotify,
  v3RefundNotify,
} from '../support/refunds'
import { closedOrder, saveQueryingMerchant } from '../support/closed-orders'
import { setInstanceEnv } from '../support/instance-env'

/** Alipay's TRADE_SUCCESS of the merchant's trade. */
function alipayPayment(merchantId: string, outTradeNo: string, amount: number, tradeNo: string) {
  const params = { ...alipayPaymentParams({ outTradeNo, amount, identity: ownKeys(merchantId).alipay }), trade_no: tradeNo }
  const sign = signAlipay(params)
  return { body: alipayForm({ ...params, sign }), headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } }
}

describe('held Alipay refunds × refund registration', () => {
  it('forwards two held refunds in the order they happened when the later one is registered first', async () => {
    const merchantId = 'x2-held-registered'
    await saveQueryingMerchant(merchantId)
    const received = receiveEvents(forwardUrl(merchantId))
    // Alipay knows neither refund yet (its answer names no refund): both stay held, in doubt.
    const asked = alipayRefundQueryAnswers([])
    const outTradeNo = freshOrderNo('HELDREG')
    const tradeNo = `2026112222001${Date.now()}`
    const identity = ownKeys(merchantId).alipay
    const stub = orderStub(env, { merchantId, provider: 'alipay', outTradeNo })
    expect(await (await notify('alipay', merchantId, alipayPayment(merchantId, outTradeNo, 100, tradeNo))).text()).toBe('success')
    await runDurableObjectAlarm(stub)
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.succeeded']))

    // Refund A (30), then refund B (the other 70): B's notification (running total 1.00) arrives first, then A's (0.30).
    const b = alipayRefundNotify({ outTradeNo, outRefundNo: 'R-B', refundFee: 100, total: 100, tradeNo, identity })
    const a = alipayRefundNotify({ outTradeNo, outRefundNo: 'R-A', refundFee: 30, total: 100, tradeNo, identity })
    expect(await (await notify('alipay', merchantId, b)).text()).toBe(ACCEPT.alipay.body)
    expect(await (await notify('alipay', merchantId, a)).text()).toBe(ACCEPT.alipay.body)
    await runDurableObjectAlarm(stub)
    expect(asked.asked.sort()).toEqual(['R-A', 'R-B'])
    const held = await inOrderStore({ merchantId, provider: 'alipay', outTradeNo }, (store) =>
      store.refunds.rows().map((r) => [r.outRefundNo, r.status]),
    )
    expect(held).toEqual([
      ['R-B', 'pending'],
      ['R-A', 'pending'],
    ])

    // The merchant registers B (70): B is certain now, but A, held with a lower running total, happened before it.
    const registered = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/refunds/R-B`, {
      method: 'PUT',
      body: JSON.stringify({ amount: 70 }),
    })
    expect(registered.status).toBeLessThan(300)
    await runDurableObjectAlarm(stub)
    // Then A is registered too (30): both settle, A first.
    await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/refunds/R-A`, { method: 'PUT', body: JSON.stringify({ amount: 30 }) })
    await runDurableObjectAlarm(stub)
    await vi.waitFor(() => expect(received).toHaveLength(3))
    expect(received.map((e) => [e.type, e.data.refund?.out_refund_no ?? null, e.data.refund?.amount ?? null])).toEqual([
      ['payment.succeeded', null, null],
      ['refund.succeeded', 'R-A', 30],
      ['refund.succeeded', 'R-B', 70],
    ])
  })
})

/** An order Alipay closed unpaid, and the refund notification (with the payment's facts) of its lost payment. */
async function closedTrade(merchantId: string, prefix: string, query: 'paid' | 'closed') {
  const { outTradeNo, tradeNo, stub, asked } = await closedOrder(merchantId, prefix, query)
  const identity = ownKeys(merchantId).alipay
  const refund = alipayRefundNotify({ outTradeNo, outRefundNo: 'R-1', refundFee: 40, total: 100, tradeNo, identity })
  return { outTradeNo, stub, asked, refund }
}

describe('confirmPaymentsByQuery × a refund of an order closed first', () => {
  it('asks about a closed order whose refund (with the payment’s facts) it refused, and forwards payment then refund', async () => {
    const merchantId = 'x2-confirm-closed-refund'
    await saveQueryingMerchant(merchantId, { confirmPaymentsByQuery: true })
    const received = receiveEvents(forwardUrl(merchantId))
    const { outTradeNo, stub, asked, refund } = await closedTrade(merchantId, 'CLOSEDREFUND', 'paid')
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.closed']))
    // A refund of a payment not confirmed yet is refused (Alipay retries it), and the provider is asked about the order.
    expect(await (await notify('alipay', merchantId, refund)).text()).toBe('failure')
    await runDurableObjectAlarm(stub)
    expect(asked).toEqual([outTradeNo])
    expect(await orderView(merchantId, 'alipay', outTradeNo)).toMatchObject({ status: 'paid', amount: 100 })
    // Alipay's retry applies; its own amount is settled by the merchant's registration (Alipay states the running total).
    expect(await (await notify('alipay', merchantId, refund)).text()).toBe('success')
    await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/refunds/R-1`, { method: 'PUT', body: JSON.stringify({ amount: 40 }) })
    await runDurableObjectAlarm(stub)
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.closed', 'payment.succeeded', 'refund.succeeded']))
    expect(received.at(-1)!.data.refund).toMatchObject({ out_refund_no: 'R-1', amount: 40 })
  })

  it('asks no more once the provider’s signed answer says the trade is closed', async () => {
    const merchantId = 'x2-confirm-closed-refund-denied'
    await saveQueryingMerchant(merchantId, { confirmPaymentsByQuery: true })
    // The endpoint takes payment.closed (a retry due within the minute would put the query off to its run).
    receiveEvents(forwardUrl(merchantId))
    const { outTradeNo, stub, asked, refund } = await closedTrade(merchantId, 'CLOSEDREFUNDNO', 'closed')
    expect(await (await notify('alipay', merchantId, refund)).text()).toBe('failure')
    await runDurableObjectAlarm(stub)
    await runDurableObjectAlarm(stub)
    expect(asked).toEqual([outTradeNo])
    expect(await orderView(merchantId, 'alipay', outTradeNo)).toMatchObject({ status: 'closed' })
    const plan = await inOrderStore({ merchantId, provider: 'alipay', outTradeNo }, (store) => store.reconciliation.get())
    expect(plan).toMatchObject({ nextQueryAt: null })
    expect(plan?.reopened).toBeUndefined()
  })
})

describe('compaction × a payment awaiting confirmation', () => {
  it('keeps the payment whose confirming queries failed for a week through compaction: a sync then pays it', async () => {
    const merchantId = 'x2-compact-unconfirmed'
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.parse('2031-05-01T00:00:00Z'))
      await saveQueryingMerchant(merchantId, { confirmPaymentsByQuery: true })
      const received = receiveEvents(forwardUrl(merchantId))
      network.use(http.post(ALIPAY_GATEWAY, () => new HttpResponse('busy', { status: 502 })))
      const outTradeNo = freshOrderNo('COMPACTHELD')
      const tradeNo = `2026112222001${Date.now()}`
      const stub = orderStub(env, { merchantId, provider: 'alipay', outTradeNo })
      await setInstanceEnv(stub, { ...env, ORDER_RETENTION_DAYS: '0' } as unknown as Env)
      expect(await (await notify('alipay', merchantId, alipayPayment(merchantId, outTradeNo, 100, tradeNo))).text()).toBe('success')
      await runDurableObjectAlarm(stub)
      // A week and a day of failed queries later: the last one logs payment.unconfirmed and plans none.
      vi.setSystemTime(Date.now() + 8 * 24 * 3600_000)
      await runDurableObjectAlarm(stub)
      await runDurableObjectAlarm(stub)
      await runDurableObjectAlarm(stub)
      const kept = await inOrderStore({ merchantId, provider: 'alipay', outTradeNo }, (store) => ({
        compactedAt: store.compactedAt(),
        plan: store.reconciliation.get(),
      }))
      expect(kept.plan?.nextQueryAt).toBeNull()
      expect(kept.compactedAt).not.toBeNull()
      expect(kept.plan?.unconfirmed).toBeDefined()
      expect(received).toEqual([])

      // The query works again: a sync pays the order, once.
      tradeQueryAnswers(() => ({
        trade_no: tradeNo,
        trade_status: 'TRADE_SUCCESS',
        total_amount: '1.00',
        send_pay_date: '2026-11-22 17:59:58',
      }))
      const sync = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/sync?provider=alipay`, { method: 'POST' })
      expect(await sync.json()).toMatchObject({ results: [{ provider: 'alipay', status: 'paid', query: 'alipay paid (accepted)' }] })
      await runDurableObjectAlarm(stub)
      await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.succeeded']))
      expect(await (await notify('alipay', merchantId, alipayPayment(merchantId, outTradeNo, 100, tradeNo))).text()).toBe('success')
      await runDurableObjectAlarm(stub)
      expect(received).toHaveLength(1)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('endpoint disabled × confirmPaymentsByQuery × recover', () => {
  it('sends a payment confirmed while the endpoint was disabled, and the refund after it, in their order once recovered', async () => {
    const merchantId = 'x2-disabled-confirmed'
    await saveQueryingMerchant(merchantId, { confirmPaymentsByQuery: true })
    const received = receiveEvents(forwardUrl(merchantId))
    const outTradeNo = freshOrderNo('DISCONF')
    const tradeNo = `2026112222001${Date.now()}`
    const identity = ownKeys(merchantId).alipay
    const order = { merchantId, provider: 'alipay' as const, outTradeNo }
    const stub = orderStub(env, order)
    expect((await admin(`/admin/merchants/${merchantId}/endpoint/disable`, { method: 'POST' })).status).toBe(200)
    const since = new Date(Date.now() - 60_000).toISOString()
    expect(await (await notify('alipay', merchantId, alipayPayment(merchantId, outTradeNo, 100, tradeNo))).text()).toBe('success')
    tradeQueryAnswers(() => ({
      trade_no: tradeNo,
      trade_status: 'TRADE_SUCCESS',
      total_amount: '1.00',
      send_pay_date: '2026-11-22 17:59:58',
    }))
    await runDurableObjectAlarm(stub)
    // The refund of the whole trade: its running total leaves no doubt (no refund before it).
    const refund = alipayRefundNotify({ outTradeNo, outRefundNo: 'R-ALL', refundFee: 100, total: 100, tradeNo, identity })
    expect(await (await notify('alipay', merchantId, refund)).text()).toBe('success')
    await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}/refunds/R-ALL`, {
      method: 'PUT',
      body: JSON.stringify({ amount: 100 }),
    })
    await runDurableObjectAlarm(stub)
    await runDurableObjectAlarm(stub)
    expect(received).toEqual([])
    expect(await orderView(merchantId, 'alipay', outTradeNo)).toMatchObject({ status: 'refunded' })

    expect((await admin(`/admin/merchants/${merchantId}/endpoint/enable`, { method: 'POST' })).status).toBe(200)
    await awaitProjection([order])
    const recover = () =>
      admin(`/admin/merchants/${merchantId}/deliveries/recover`, { method: 'POST', body: JSON.stringify({ since, status: 'failed' }) })
    expect(await (await recover()).json()).toMatchObject({ recovered: 2 })
    await runDurableObjectAlarm(stub)
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.succeeded', 'refund.succeeded']))
    expect(received[1]!.data.refund).toMatchObject({ out_refund_no: 'R-ALL', amount: 100 })
    expect(await (await recover()).json()).toMatchObject({ recovered: 0 })
  })
})

describe('one WeChat Pay order across v2 and v3', () => {
  it('a v2 payment, its refund failed on v3 then succeeded on v2, and a later v3 report of it: each outcome once', async () => {
    const merchantId = 'x2-mixed-channels'
    await saveQueryingMerchant(merchantId)
    const received = receiveEvents(forwardUrl(merchantId))
    const identity = ownKeys(merchantId)
    const payment = freshPayment('wechatpay.v2', { identity })
    const { outTradeNo } = payment
    const stub = orderStub(env, { merchantId, provider: 'wechatpay', outTradeNo })
    expect((await notify('wechatpay.v2', merchantId, payment)).status).toBe(200)
    const refund = { outTradeNo, outRefundNo: 'R-1', refund: 60, total: 100, identity: identity.wechat }
    expect((await notify('wechatpay.v3', merchantId, v3RefundNotify({ ...refund, status: 'ABNORMAL' }))).status).toBeLessThan(300)
    expect((await notify('wechatpay.v2', merchantId, v2RefundNotify(refund))).status).toBe(200)
    expect((await notify('wechatpay.v3', merchantId, v3RefundNotify(refund))).status).toBeLessThan(300)
    // Another refund of more than is left: refused on either channel.
    const tooMuch = { outTradeNo, outRefundNo: 'R-2', refund: 50, total: 100, identity: identity.wechat }
    expect((await notify('wechatpay.v3', merchantId, v3RefundNotify(tooMuch))).status).toBeGreaterThanOrEqual(400)
    await runDurableObjectAlarm(stub)
    await vi.waitFor(() => expect(received).toHaveLength(3))
    expect(received.map((e) => [e.type, e.data.channel, e.data.refund?.amount ?? null])).toEqual([
      ['payment.succeeded', 'wechatpay.v2', null],
      ['refund.failed', 'wechatpay.v3', 60],
      ['refund.succeeded', 'wechatpay.v2', 60],
    ])
    expect(await orderView(merchantId, 'wechatpay', outTradeNo)).toMatchObject({ status: 'partially_refunded', amount: 100 })
  })
})
