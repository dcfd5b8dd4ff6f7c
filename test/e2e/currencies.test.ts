/**
 * End to end through the real Worker: payments in another currency than CNY. Alipay states a cross-border trade's
 * `total_amount` in its `trans_currency` (the buyer pays `pay_amount` in `pay_currency`); the order registered in that
 * currency is paid by it, and the merchant's event names the currency its amount is in.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import keys from '../fixtures/keys.json'
import { network } from '../msw'
import { ownIds, signV2, v2Xml } from '../security/signing'
import { orderStub } from '../../src/order/order-key'
import type { Provider } from '../../src/providers'
import {
  admin,
  getOrder,
  merchantBody,
  notify,
  putFixtureMerchant,
  putOwnIdsMerchant,
  recordForwarded,
  withOwnIds,
} from '../support/gateway'
import { tradeQueryAnswers, v2RefundNotify, v3RefundNotify, WECHAT_API, withQueryKeys } from '../support/refunds'

async function register(merchantId: string, outTradeNo: string, amount: number, currency: string): Promise<void> {
  const reply = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}`, {
    method: 'PUT',
    body: JSON.stringify({ amount, currency }),
  })
  expect(reply.status).toBe(200)
}

async function forwardedData(
  merchantId: string,
  outTradeNo: string,
  count: number,
  provider: Provider = 'alipay',
): Promise<Record<string, unknown>[]> {
  const forwarded = recordForwarded()
  await runDurableObjectAlarm(orderStub(env, { merchantId, provider, outTradeNo }))
  await vi.waitFor(() => expect(forwarded).toHaveLength(count))
  return forwarded.map((call) => (JSON.parse(call.body) as { data: Record<string, unknown> }).data)
}

describe('Alipay cross-border trades (trans_currency)', () => {
  it('pays an order registered as 10.00 USD with a USD trade of total_amount 10.00, and forwards it as USD', async () => {
    await putFixtureMerchant('fx-usd')
    await register('fx-usd', 'T20261122-0040', 1000, 'USD')
    const reply = await notify('alipay', 'fx-usd', alipayFixtures.cases.crossBorderPayment)
    expect({ status: reply.status, body: await reply.text() }).toEqual({ status: 200, body: 'success' })
    expect(await getOrder('fx-usd', 'T20261122-0040')).toMatchObject({ status: 'paid', amount: 1000, currency: 'USD' })
    const [paid] = await forwardedData('fx-usd', 'T20261122-0040', 1)
    expect(paid).toMatchObject({ out_trade_no: 'T20261122-0040', amount: 1000, currency: 'USD' })
  })

  it('refuses the USD trade for an order registered as 10.00 CNY: the amounts are in different currencies', async () => {
    await putFixtureMerchant('fx-cny')
    await register('fx-cny', 'T20261122-0040', 1000, 'CNY')
    const reply = await notify('alipay', 'fx-cny', alipayFixtures.cases.crossBorderPayment)
    expect({ status: reply.status, body: await reply.text() }).toEqual({ status: 409, body: 'failure' })
    const order = await getOrder('fx-cny', 'T20261122-0040')
    expect(order).toMatchObject({ status: 'amount_mismatch', events: [] })
  })

  it('forwards an unregistered USD trade as USD, not as CNY', async () => {
    await putFixtureMerchant('fx-free')
    const reply = await notify('alipay', 'fx-free', alipayFixtures.cases.crossBorderPayment)
    expect(await reply.text()).toBe('success')
    const [paid] = await forwardedData('fx-free', 'T20261122-0040', 1)
    expect(paid).toMatchObject({ amount: 1000, currency: 'USD' })
  })

  it('a refund of a USD trade whose payment was not seen pays the USD-registered order first, then refunds', async () => {
    await putFixtureMerchant('fx-refund')
    await register('fx-refund', 'T20261122-0041', 1000, 'USD')
    const reply = await notify('alipay', 'fx-refund', alipayFixtures.cases.crossBorderRefund)
    expect({ status: reply.status, body: await reply.text() }).toEqual({ status: 200, body: 'success' })
    expect(await getOrder('fx-refund', 'T20261122-0041')).toMatchObject({ status: 'partially_refunded', amount: 1000, currency: 'USD' })
    const [paid, refunded] = await forwardedData('fx-refund', 'T20261122-0041', 2)
    expect(paid).toMatchObject({ amount: 1000, currency: 'USD' })
    expect(refunded).toMatchObject({ currency: 'USD', refund: { out_refund_no: 'R20261122-0041-1', amount: 400, total_refunded: 400 } })
  })
})

describe('Alipay cross-border trades found by the order query', () => {
  it('pays an order registered as 10.00 USD when alipay.trade.query answers TRADE_SUCCESS, total_amount 10.00 USD', async () => {
    // The merchant's ids of its own (it takes no fixture), with the key that signs queries; Alipay's answer is signed
    // with node:crypto by the test's stand-in.
    const merchant = withQueryKeys(withOwnIds('fx-query', merchantBody()))
    expect((await admin('/admin/merchants/fx-query', { method: 'PUT', body: JSON.stringify(merchant) })).status).toBe(201)
    await register('fx-query', 'T-FX-QUERY', 1000, 'USD')
    const asked = tradeQueryAnswers(() => ({
      trade_no: '2026112222001400000000000043',
      trade_status: 'TRADE_SUCCESS',
      total_amount: '10.00',
      trans_currency: 'USD',
      settle_currency: 'USD',
      pay_currency: 'CNY',
      pay_amount: '71.23',
      buyer_pay_amount: '71.23',
      send_pay_date: '2026-11-22 17:59:58',
    }))
    const synced = await admin('/admin/merchants/fx-query/orders/T-FX-QUERY/sync?provider=alipay', { method: 'POST' })
    expect(synced.status).toBe(200)
    expect(asked).toEqual(['T-FX-QUERY'])
    expect(await getOrder('fx-query', 'T-FX-QUERY')).toMatchObject({ status: 'paid', amount: 1000, currency: 'USD' })
    const [paid] = await forwardedData('fx-query', 'T-FX-QUERY', 1)
    expect(paid).toMatchObject({ amount: 1000, currency: 'USD', paid_at: '2026-11-22T09:59:58Z' })
  })
})

describe('payment.closed names the currency of the amount it carries', () => {
  it('an order registered as 10.00 USD, closed unpaid: amount 1000 and currency USD', async () => {
    await putFixtureMerchant('fx-closed')
    await register('fx-closed', 'T20261122-0042', 1000, 'USD')
    expect(await (await notify('alipay', 'fx-closed', alipayFixtures.cases.crossBorderClosed)).text()).toBe('success')
    const [closed] = await forwardedData('fx-closed', 'T20261122-0042', 1)
    expect(closed).toMatchObject({ out_trade_no: 'T20261122-0042', amount: 1000, currency: 'USD', paid_at: null })
  })

  it("an unregistered USD trade closed unpaid: the closed trade's amount, in its trans_currency", async () => {
    await putFixtureMerchant('fx-closed-free')
    expect(await (await notify('alipay', 'fx-closed-free', alipayFixtures.cases.crossBorderClosed)).text()).toBe('success')
    const [closed] = await forwardedData('fx-closed-free', 'T20261122-0042', 1)
    expect(closed).toMatchObject({ amount: 1000, currency: 'USD' })
  })

  it('a WeChat Pay order registered as 100.00 HKD that the v2 order query finds CLOSED: amount 10000 and currency HKD', async () => {
    // WeChat Pay's answer is signed with the APIv2 key (HMAC-SHA256, the sign type paygate asks with) by node:crypto.
    await putOwnIdsMerchant('fx-wx-closed')
    const { appid, mchid } = ownIds('fx-wx-closed').wechat
    network.use(
      http.post(`${WECHAT_API}/pay/orderquery`, () => {
        const fields = {
          return_code: 'SUCCESS',
          return_msg: 'OK',
          appid,
          mch_id: mchid,
          nonce_str: 'a8QfG2kLp0ZxW7vB',
          result_code: 'SUCCESS',
          out_trade_no: 'T-FX-WX-CLOSED',
          trade_state: 'CLOSED',
          trade_state_desc: '订单已关闭',
        }
        const body = v2Xml({ ...fields, sign: signV2(fields, keys.wechatpay.apiV2Key, 'HMAC-SHA256') })
        return new HttpResponse(body, { headers: { 'content-type': 'text/xml' } })
      }),
    )
    const registered = await admin('/admin/merchants/fx-wx-closed/orders/T-FX-WX-CLOSED', {
      method: 'PUT',
      body: JSON.stringify({ amount: 10000, currency: 'HKD', channel: 'wechatpay.v2' }),
    })
    expect(registered.status).toBe(200)
    const synced = await admin('/admin/merchants/fx-wx-closed/orders/T-FX-WX-CLOSED/sync?provider=wechatpay', { method: 'POST' })
    expect(synced.status).toBe(200)
    expect(await getOrder('fx-wx-closed', 'T-FX-WX-CLOSED')).toMatchObject({ status: 'closed' })
    const [closed] = await forwardedData('fx-wx-closed', 'T-FX-WX-CLOSED', 1, 'wechatpay')
    expect(closed).toMatchObject({ channel: 'wechatpay.v2', amount: 10000, currency: 'HKD' })
  })
})

describe('an Alipay trans_currency that is no ISO 4217 code', () => {
  it('is not taken: a trade query answer naming "usd" pays nothing and says why', async () => {
    const merchant = withQueryKeys(withOwnIds('fx-bad-code', merchantBody()))
    expect((await admin('/admin/merchants/fx-bad-code', { method: 'PUT', body: JSON.stringify(merchant) })).status).toBe(201)
    await register('fx-bad-code', 'T-FX-BAD', 1000, 'USD')
    tradeQueryAnswers(() => ({
      trade_no: '2026112222001400000000000044',
      trade_status: 'TRADE_SUCCESS',
      total_amount: '10.00',
      trans_currency: 'usd',
      send_pay_date: '2026-11-22 17:59:58',
    }))
    const synced = await admin('/admin/merchants/fx-bad-code/orders/T-FX-BAD/sync?provider=alipay', { method: 'POST' })
    expect(synced.status).toBe(200)
    expect(await synced.json()).toMatchObject({
      results: [{ provider: 'alipay', status: 'pending', query: expect.stringContaining('failed') }],
    })
    expect(await getOrder('fx-bad-code', 'T-FX-BAD')).toMatchObject({ status: 'pending', events: [] })
  })
})

describe('a WeChat Pay refund that names no currency, proving the payment of an order registered in another', () => {
  it.each([
    ['v2', 'wechatpay.v2'],
    ['v3', 'wechatpay.v3'],
  ] as const)('%s: pays the order in its registered currency (HKD), then applies the refund once', async (version, channel) => {
    const merchantId = `fx-refund-first-${version}`
    await putOwnIdsMerchant(merchantId)
    const outTradeNo = `T-FX-RF-${version}`
    await register(merchantId, outTradeNo, 1000, 'HKD')
    const options = { outTradeNo, outRefundNo: `R-FX-${version}`, refund: 300, total: 1000, identity: ownIds(merchantId).wechat }
    const refund = version === 'v2' ? v2RefundNotify(options) : v3RefundNotify(options)
    const reply = await notify(channel, merchantId, refund)
    expect(reply.status).toBeLessThan(300)
    expect(await getOrder(merchantId, outTradeNo)).toMatchObject({ status: 'partially_refunded', amount: 1000, currency: 'HKD' })
    const [paid, refunded] = await forwardedData(merchantId, outTradeNo, 2, 'wechatpay')
    expect(paid).toMatchObject({ amount: 1000, currency: 'HKD' })
    expect(refunded).toMatchObject({ currency: 'HKD', refund: { amount: 300 } })
  })
})
