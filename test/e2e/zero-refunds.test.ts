/**
 * End to end through the real Worker: a refund of nothing. Neither provider refunds 0 fen (a refund request's amount
 * is at least 1), so a signed refund notification stating 0 is malformed, as a payment of 0 is: it must not mark a
 * paid order refunded in part, nor forward a refund.succeeded of 0. Nor does a signed refund-query answer stating 0,
 * and an order-query answer stating a payment of 0 pays nothing, as such a notification does not.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import { ACCEPT, admin, freshPayment, merchantBody, notify as notifyOwn, orderView, ownKeys, type OrderView } from '../security/harness'
import { getOrder, notify, putFixtureMerchant, withOwnIds } from '../support/gateway'
import { alipayRefundQueryAnswers, tradeQueryAnswers, v3RefundQueryAnswers, withQueryKeys } from '../support/refunds'

afterEach(() => {
  vi.useRealTimers()
})

describe('a refund notification of 0 fen', () => {
  it('WeChat Pay v3: REFUND.SUCCESS with amount.refund 0 is refused (400); the paid order stays paid', async () => {
    await putFixtureMerchant('zero-v3')
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(v3Fixtures.now)
    expect((await notify('wechatpay.v3', 'zero-v3', v3Fixtures.cases.transactionCertA)).status).toBe(204)
    const reply = await notify('wechatpay.v3', 'zero-v3', v3Fixtures.cases.refundZeroAmount)
    expect(reply.status).toBe(400)
    const order = await getOrder('zero-v3', 'T20251124001')
    expect(order).toMatchObject({ status: 'paid', amount: 100, refunded_amount: 0 })
    expect(order.events.map((event) => event.type)).toEqual(['payment.succeeded'])
  })

  it('WeChat Pay v2: a refund notify with refund_fee 0 is refused; the paid order stays paid', async () => {
    await putFixtureMerchant('zero-v2')
    expect((await notify('wechatpay.v2', 'zero-v2', v2Fixtures.cases.md5WithSignType)).status).toBe(200)
    const reply = await notify('wechatpay.v2', 'zero-v2', v2Fixtures.cases.refundZeroFee)
    expect(reply.status).toBe(400)
    expect(await reply.text()).toContain('<return_code><![CDATA[FAIL]]></return_code>')
    const order = await getOrder('zero-v2', 'T20251124001')
    expect(order).toMatchObject({ status: 'paid', amount: 100, refunded_amount: 0 })
    expect(order.events.map((event) => event.type)).toEqual(['payment.succeeded'])
  })
})

describe('a refund-query answer stating a refund of 0 fen', () => {
  const MERCHANT = 'zero-query'
  const identity = ownKeys(MERCHANT)
  const channels = [
    { channel: 'wechatpay.v3' as const, provider: 'wechatpay' as const, answer: v3RefundQueryAnswers },
    { channel: 'alipay' as const, provider: 'alipay' as const, answer: alipayRefundQueryAnswers },
  ]

  beforeAll(async () => {
    const reply = await admin(`/admin/merchants/${MERCHANT}`, {
      method: 'PUT',
      body: JSON.stringify(withQueryKeys(merchantBody(MERCHANT, { identity }))),
    })
    expect(reply.status).toBe(201)
  })

  for (const { channel, provider, answer } of channels) {
    it(`${channel}: settles nothing; the registered refund stays pending and the paid order stays paid`, async () => {
      const paid = freshPayment(channel, { amount: 10_000, identity })
      expect((await notifyOwn(channel, MERCHANT, paid)).status).toBe(ACCEPT[channel].status)
      const outRefundNo = `RF-${paid.outTradeNo}`
      answer([{ outTradeNo: paid.outTradeNo, outRefundNo, amount: 0, total: 10_000 }])
      const path = `/admin/merchants/${MERCHANT}/orders/${paid.outTradeNo}`
      const registered = await admin(`${path}/refunds/${outRefundNo}`, { method: 'PUT', body: JSON.stringify({ amount: 4000, channel }) })
      expect(registered.status).toBe(200)
      await admin(`${path}/sync?provider=${provider}`, { method: 'POST' })
      const order = (await orderView(MERCHANT, provider, paid.outTradeNo)) as OrderView & {
        refunds: { out_refund_no: string; status: string; amount: number | null; last_query_result: string | null }[]
        events: { type: string }[]
      }
      expect(order).toMatchObject({ status: 'paid', refunded_amount: 0 })
      expect(order.refunds).toMatchObject([{ out_refund_no: outRefundNo, status: 'pending', amount: null }])
      expect(order.refunds[0]!.last_query_result).toMatch(/failed: malformed_response$/)
      expect(order.events.map((event) => event.type)).toEqual(['payment.succeeded'])
    })
  }
})

describe('an order-query answer stating a payment of 0 fen', () => {
  it('alipay.trade.query TRADE_SUCCESS with total_amount 0.00 pays nothing: the sync says the query failed, nothing is stored', async () => {
    const merchantId = 'zero-trade-query'
    const merchant = withQueryKeys(withOwnIds(merchantId, merchantBody(merchantId)))
    expect((await admin(`/admin/merchants/${merchantId}`, { method: 'PUT', body: JSON.stringify(merchant) })).status).toBe(201)
    const asked = tradeQueryAnswers(() => ({
      trade_no: '2026112222001400000000000099',
      trade_status: 'TRADE_SUCCESS',
      total_amount: '0.00',
      send_pay_date: '2026-11-22 17:59:58',
    }))
    const synced = await admin(`/admin/merchants/${merchantId}/orders/T-ZERO-QUERY/sync?provider=alipay`, { method: 'POST' })
    expect(asked).toEqual(['T-ZERO-QUERY'])
    expect(await synced.json()).toMatchObject({
      results: [{ provider: 'alipay', status: 'pending', query: expect.stringMatching(/failed: malformed_response/) }],
    })
    expect((await admin(`/admin/merchants/${merchantId}/orders/T-ZERO-QUERY`)).status).toBe(404)
  })
})
