/**
 * A combined payment's sub-order (合单支付) registered or synced before its notification, through the real Worker.
 * WeChat answers no ordinary order query for a combined order, so a sub-order whose callback is lost is found only
 * through its combine: `PUT …/orders/{no}` and `POST …/orders/{no}/sync` take `combine_out_trade_no` for that.
 * Answers signed live with node:crypto (test/support/combined.ts).
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { orderStub } from '../../src/order/order-key'
import type { OrderRef } from '../../src/storage/order'
import { ACCEPT, admin, forwardUrl, merchantBody, notify, orderView, ownKeys } from '../security/harness'
import { freshOrderNo } from '../security/signing'
import {
  ordinaryQueryLog,
  v2CombinedNotify,
  v3CombinedNotify,
  v3CombinedQueryAnswers,
  type Combine,
  type CombinedSubOrder,
} from '../support/combined'
import { runDueQuery } from '../support/orders'
import { receiveEvents, v3RefundNotify, withQueryKeys } from '../support/refunds'

async function saveMerchant(merchantId: string, options: Record<string, unknown> = {}): Promise<void> {
  const body = merchantBody(merchantId, { identity: ownKeys(merchantId) })
  const reply = await admin(`/admin/merchants/${merchantId}`, {
    method: 'PUT',
    body: JSON.stringify({ ...withQueryKeys(body), ...options }),
  })
  expect(reply.status).toBe(201)
}

function combineOf(merchantId: string): Combine {
  const subOrders: CombinedSubOrder[] = [
    { outTradeNo: freshOrderNo('SUB1'), amount: 100 },
    { outTradeNo: freshOrderNo('SUB2'), amount: 200 },
  ]
  return { identity: ownKeys(merchantId).wechat, combineOutTradeNo: freshOrderNo('COMBINE'), subOrders }
}

const ref = (merchantId: string, outTradeNo: string): OrderRef => ({ merchantId, provider: 'wechatpay', outTradeNo })

function register(merchantId: string, outTradeNo: string, body: Record<string, unknown>): Promise<Response> {
  return admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}`, { method: 'PUT', body: JSON.stringify(body) })
}

describe('a v3 combined sub-order registered with its combine', () => {
  it('whose callback never comes is found through the combined query, never the ordinary one, and forwarded once', async () => {
    const merchantId = 'combined-registered'
    await saveMerchant(merchantId)
    const received = receiveEvents(forwardUrl(merchantId))
    const combine = combineOf(merchantId)
    const combined = v3CombinedQueryAnswers([combine])
    const ordinary = ordinaryQueryLog()
    const [first] = combine.subOrders as [CombinedSubOrder]

    const reply = await register(merchantId, first.outTradeNo, { amount: first.amount, combine_out_trade_no: combine.combineOutTradeNo })
    expect(reply.status).toBe(200)
    expect(await reply.json()).toMatchObject({ providers: ['wechatpay'], combine_out_trade_no: combine.combineOutTradeNo })
    await runDueQuery(ref(merchantId, first.outTradeNo))

    expect(ordinary.asked).toEqual([])
    expect(combined.asked.map((a) => a.combineOutTradeNo)).toEqual([combine.combineOutTradeNo])
    expect(await orderView(merchantId, 'wechatpay', first.outTradeNo)).toMatchObject({ status: 'paid', amount: first.amount })
    await vi.waitFor(() => expect(received.map((e) => [e.type, e.data.out_trade_no])).toEqual([['payment.succeeded', first.outTradeNo]]))

    // The callback comes late after all: the same payment, nothing forwarded again.
    expect(await (await notify('wechatpay.v3', merchantId, v3CombinedNotify(combine))).text()).toBe(ACCEPT['wechatpay.v3'].body)
    await runDurableObjectAlarm(orderStub(env, ref(merchantId, first.outTradeNo)))
    await vi.waitFor(() => expect(received).toHaveLength(2))
    expect(received.filter((e) => e.data.out_trade_no === first.outTradeNo)).toHaveLength(1)
  })

  it('takes the combine of a signed callback over the one registered, and refuses another combine once paid', async () => {
    const merchantId = 'combined-registered-other'
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true })
    const combine = combineOf(merchantId)
    const combined = v3CombinedQueryAnswers([combine])
    const [first] = combine.subOrders as [CombinedSubOrder]
    const mistyped = `${combine.combineOutTradeNo}X`
    expect((await register(merchantId, first.outTradeNo, { amount: first.amount, combine_out_trade_no: mistyped })).status).toBe(200)

    // WeChat's signed callback names the real combine: the held payment is confirmed through it.
    expect(await (await notify('wechatpay.v3', merchantId, v3CombinedNotify(combine))).text()).toBe(ACCEPT['wechatpay.v3'].body)
    await runDurableObjectAlarm(orderStub(env, ref(merchantId, first.outTradeNo)))
    expect(combined.asked.map((a) => a.combineOutTradeNo)).toContain(combine.combineOutTradeNo)
    expect(combined.asked.map((a) => a.combineOutTradeNo)).not.toContain(mistyped)
    expect(await orderView(merchantId, 'wechatpay', first.outTradeNo)).toMatchObject({ status: 'paid' })

    const again = await register(merchantId, first.outTradeNo, { amount: first.amount, combine_out_trade_no: mistyped })
    expect(again.status).toBe(409)
    expect(await again.json()).toMatchObject({ error: { code: 'conflict' } })
  })

  it('keeps the combine of a held callback when the merchant names another: 409, and the held payment is confirmed through WeChat’s', async () => {
    const merchantId = 'combined-held-renamed'
    await saveMerchant(merchantId, { confirmPaymentsByQuery: true })
    const combine = combineOf(merchantId)
    const combined = v3CombinedQueryAnswers([combine])
    const [first] = combine.subOrders as [CombinedSubOrder]
    expect(await (await notify('wechatpay.v3', merchantId, v3CombinedNotify(combine))).text()).toBe(ACCEPT['wechatpay.v3'].body)
    expect(await orderView(merchantId, 'wechatpay', first.outTradeNo)).toMatchObject({ status: 'pending' })

    const renamed = await register(merchantId, first.outTradeNo, {
      amount: first.amount,
      combine_out_trade_no: `${combine.combineOutTradeNo}X`,
    })
    expect(renamed.status).toBe(409)
    expect(await renamed.json()).toMatchObject({ error: { code: 'conflict', message: expect.stringContaining(combine.combineOutTradeNo) } })
    // A sync naming another combine is refused alike, and asks nothing.
    const query = `provider=wechatpay&combine_out_trade_no=${combine.combineOutTradeNo}X`
    const resynced = await admin(`/admin/merchants/${merchantId}/orders/${first.outTradeNo}/sync?${query}`, { method: 'POST' })
    expect(resynced.status).toBe(409)
    expect(await resynced.json()).toMatchObject({ error: { code: 'conflict' } })
    await runDurableObjectAlarm(orderStub(env, ref(merchantId, first.outTradeNo)))
    expect(combined.asked.map((a) => a.combineOutTradeNo)).toEqual([combine.combineOutTradeNo])
    expect(await orderView(merchantId, 'wechatpay', first.outTradeNo)).toMatchObject({ status: 'paid' })
  })

  it('is refused for a provider with no combined payments, and for a malformed combine number', async () => {
    const merchantId = 'combined-registered-alipay'
    await saveMerchant(merchantId)
    const alipay = await register(merchantId, freshOrderNo('ALI'), { amount: 100, channel: 'alipay', combine_out_trade_no: 'C1' })
    expect(alipay.status).toBe(400)
    expect(await alipay.json()).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('combine_out_trade_no') },
    })
    const malformed = await register(merchantId, freshOrderNo('WX'), { amount: 100, combine_out_trade_no: 'C\u0001' })
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('combine_out_trade_no') },
    })
  })
})

describe('a v3 combined sub-order the gateway never heard of', () => {
  it('is synced through its combine when the admin names it, and kept as paid', async () => {
    const merchantId = 'combined-sync-unseen'
    await saveMerchant(merchantId)
    const combine = combineOf(merchantId)
    const combined = v3CombinedQueryAnswers([combine])
    const ordinary = ordinaryQueryLog()
    const [, second] = combine.subOrders as [CombinedSubOrder, CombinedSubOrder]

    const path = `/admin/merchants/${merchantId}/orders/${second.outTradeNo}/sync?provider=wechatpay&combine_out_trade_no=${combine.combineOutTradeNo}`
    const sync = await admin(path, { method: 'POST' })
    expect(sync.status).toBe(200)
    expect(await sync.json()).toMatchObject({ results: [{ provider: 'wechatpay', status: 'paid' }] })
    expect(combined.asked.map((a) => a.combineOutTradeNo)).toEqual([combine.combineOutTradeNo])
    expect(ordinary.asked).toEqual([])
    expect(await orderView(merchantId, 'wechatpay', second.outTradeNo)).toMatchObject({ status: 'paid', amount: second.amount })
  })
})

describe('a v2 combined sub-order registered with the combine its callback named', () => {
  it('is registered (the combine WeChat reported is the one named), and the callback’s retry then pays it', async () => {
    const merchantId = 'combined-registered-v2'
    await saveMerchant(merchantId, { requireRegisteredOrders: true })
    const combine = combineOf(merchantId)
    const callback = v2CombinedNotify(combine)
    // Refused until registered: the order objects keep the v2 callback's combine.
    expect((await notify('wechatpay.v2', merchantId, callback)).status).toBe(409)

    for (const { outTradeNo, amount } of combine.subOrders) {
      const reply = await register(merchantId, outTradeNo, { amount, combine_out_trade_no: combine.combineOutTradeNo })
      expect({ status: reply.status, body: await reply.json() }).toMatchObject({
        status: 200,
        body: { out_trade_no: outTradeNo, combine_out_trade_no: combine.combineOutTradeNo },
      })
    }
    expect(await (await notify('wechatpay.v2', merchantId, callback)).text()).toBe(ACCEPT['wechatpay.v2'].body)
    for (const { outTradeNo, amount } of combine.subOrders) {
      expect(await orderView(merchantId, 'wechatpay', outTradeNo)).toMatchObject({ status: 'paid', amount })
      // Registered again, as a merchant may: the same answer, no conflict.
      expect((await register(merchantId, outTradeNo, { amount, combine_out_trade_no: combine.combineOutTradeNo })).status).toBe(200)
    }
  })
})

describe('a v3 combined sub-order whose refund WeChat notifies before any payment report', () => {
  // A refund notification names no combine (WeChat's for a sub-order reads as an ordinary order's): it must not make
  // the order "reported as an ordinary order", or its combine could no longer be named and a lost callback stays lost.
  it.each([
    ['that confirms payments by query', { confirmPaymentsByQuery: true }],
    ['with no options (the refund proves the payment)', {}],
  ])('of a merchant %s still takes its combine, is paid through it, and its refund follows', async (_name, options) => {
    const merchantId = `combined-refund-first-${Object.keys(options).length}`
    await saveMerchant(merchantId, options)
    const received = receiveEvents(forwardUrl(merchantId))
    const combine = combineOf(merchantId)
    const combined = v3CombinedQueryAnswers([combine])
    const ordinary = ordinaryQueryLog()
    const [first] = combine.subOrders as [CombinedSubOrder]
    const refund = v3RefundNotify({
      outTradeNo: first.outTradeNo,
      outRefundNo: `${first.outTradeNo}RF`,
      refund: 40,
      total: first.amount,
      identity: combine.identity,
    })
    const refundReply = await notify('wechatpay.v3', merchantId, refund)
    expect(refundReply.status).toBeLessThan(500)

    const reply = await register(merchantId, first.outTradeNo, { amount: first.amount, combine_out_trade_no: combine.combineOutTradeNo })
    expect({ status: reply.status, body: await reply.json() }).toMatchObject({ status: 200 })
    const askedBefore = ordinary.asked.length
    await runDueQuery(ref(merchantId, first.outTradeNo))
    // WeChat resends the refund it got no accept for.
    expect(await (await notify('wechatpay.v3', merchantId, refund)).text()).toBe(ACCEPT['wechatpay.v3'].body)
    await runDurableObjectAlarm(orderStub(env, ref(merchantId, first.outTradeNo)))

    expect(ordinary.asked.slice(askedBefore)).toEqual([])
    if (refundReply.status !== 200 && refundReply.status !== 204)
      expect(combined.asked.map((a) => a.combineOutTradeNo)).toContain(combine.combineOutTradeNo)
    expect(await orderView(merchantId, 'wechatpay', first.outTradeNo)).toMatchObject({ status: 'partially_refunded', amount: first.amount })
    await vi.waitFor(() => expect(received.map((e) => e.type)).toEqual(['payment.succeeded', 'refund.succeeded']))
  })
})
