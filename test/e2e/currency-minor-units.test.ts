/**
 * End to end through the real Worker: Alipay amounts in the minor unit of the trade's currency (ISO 4217). A trade in
 * a currency without one (JPY) states `total_amount` as "1000.00" for 1000 yen: the merchant's event says 1000 JPY,
 * as WeChat Pay's integer amounts do; a fraction of a yen is no amount. The refund query's answer names no currency:
 * it is read in the order's.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import { orderStub } from '../../src/order/order-key'
import { admin, getOrder, merchantBody, notify, putFixtureMerchant, recordForwarded, withOwnIds } from '../support/gateway'
import { alipayRefundQueryAnswers, tradeQueryAnswers, withQueryKeys } from '../support/refunds'

async function register(merchantId: string, outTradeNo: string, amount: number, currency: string): Promise<void> {
  const reply = await admin(`/admin/merchants/${merchantId}/orders/${outTradeNo}`, {
    method: 'PUT',
    body: JSON.stringify({ amount, currency }),
  })
  expect(reply.status).toBe(200)
}

async function forwardedData(merchantId: string, outTradeNo: string, count: number): Promise<Record<string, unknown>[]> {
  const forwarded = recordForwarded()
  await runDurableObjectAlarm(orderStub(env, { merchantId, provider: 'alipay', outTradeNo }))
  await vi.waitFor(() => expect(forwarded).toHaveLength(count))
  return forwarded.map((call) => (JSON.parse(call.body) as { data: Record<string, unknown> }).data)
}

describe('Alipay trades in a currency without a minor unit (JPY)', () => {
  it('pays an order registered as 1000 JPY with a JPY trade of total_amount 1000.00, and forwards amount 1000 JPY', async () => {
    await putFixtureMerchant('jpy-paid')
    await register('jpy-paid', 'T20261122-0050', 1000, 'JPY')
    const reply = await notify('alipay', 'jpy-paid', alipayFixtures.cases.crossBorderPaymentJpy)
    expect({ status: reply.status, body: await reply.text() }).toEqual({ status: 200, body: 'success' })
    expect(await getOrder('jpy-paid', 'T20261122-0050')).toMatchObject({ status: 'paid', amount: 1000, currency: 'JPY' })
    const [paid] = await forwardedData('jpy-paid', 'T20261122-0050', 1)
    expect(paid).toMatchObject({ out_trade_no: 'T20261122-0050', amount: 1000, currency: 'JPY' })
  })

  it('refuses a JPY total_amount of 1000.50 as malformed (400): a yen has no fraction, and nothing is recorded', async () => {
    await putFixtureMerchant('jpy-fraction')
    await register('jpy-fraction', 'T20261122-0051', 1000, 'JPY')
    const reply = await notify('alipay', 'jpy-fraction', alipayFixtures.cases.crossBorderPaymentJpyFraction)
    expect({ status: reply.status, body: await reply.text() }).toEqual({ status: 400, body: 'failure' })
    expect(await getOrder('jpy-fraction', 'T20261122-0051')).toMatchObject({ status: 'pending', events: [] })
  })

  it('a refund of a JPY trade (refund_fee 300.00) pays the 1000 JPY order first, then refunds 300 yen', async () => {
    await putFixtureMerchant('jpy-refund')
    await register('jpy-refund', 'T20261122-0052', 1000, 'JPY')
    const reply = await notify('alipay', 'jpy-refund', alipayFixtures.cases.crossBorderRefundJpy)
    expect({ status: reply.status, body: await reply.text() }).toEqual({ status: 200, body: 'success' })
    const [paid, refunded] = await forwardedData('jpy-refund', 'T20261122-0052', 2)
    expect(paid).toMatchObject({ amount: 1000, currency: 'JPY' })
    expect(refunded).toMatchObject({ currency: 'JPY', refund: { out_refund_no: 'R20261122-0052-1', amount: 300, total_refunded: 300 } })
  })
})

describe('the Alipay queries of a JPY order', () => {
  it('the trade query pays it in yen, and the refund query (whose answer names no currency) refunds in yen', async () => {
    // Alipay's answers are signed with node:crypto by the test's stand-in; the merchant's ids are its own.
    const merchant = withQueryKeys(withOwnIds('jpy-query', merchantBody()))
    expect((await admin('/admin/merchants/jpy-query', { method: 'PUT', body: JSON.stringify(merchant) })).status).toBe(201)
    await register('jpy-query', 'T-JPY-QUERY', 1000, 'JPY')
    tradeQueryAnswers(() => ({
      trade_no: '2026112222001400000000000053',
      trade_status: 'TRADE_SUCCESS',
      total_amount: '1000.00',
      trans_currency: 'JPY',
      settle_currency: 'JPY',
      pay_currency: 'CNY',
      pay_amount: '47.91',
      buyer_pay_amount: '47.91',
      send_pay_date: '2026-11-22 17:59:58',
    }))
    const paid = await admin('/admin/merchants/jpy-query/orders/T-JPY-QUERY/sync?provider=alipay', { method: 'POST' })
    expect(paid.status).toBe(200)
    expect(await getOrder('jpy-query', 'T-JPY-QUERY')).toMatchObject({ status: 'paid', amount: 1000, currency: 'JPY' })

    const asked = alipayRefundQueryAnswers([
      { outTradeNo: 'T-JPY-QUERY', outRefundNo: 'R-JPY-1', amount: 300, total: 1000, currency: 'JPY' },
    ])
    const registered = await admin('/admin/merchants/jpy-query/orders/T-JPY-QUERY/refunds/R-JPY-1', {
      method: 'PUT',
      body: JSON.stringify({ amount: 300 }),
    })
    expect(registered.status).toBe(200)
    const synced = await admin('/admin/merchants/jpy-query/orders/T-JPY-QUERY/sync?provider=alipay', { method: 'POST' })
    expect(await synced.json()).toMatchObject({
      results: [{ provider: 'alipay', status: 'partially_refunded', refunds: [expect.stringContaining('succeeded (accepted)')] }],
    })
    expect(asked.asked).toEqual(['R-JPY-1'])
    const [payment, refund] = await forwardedData('jpy-query', 'T-JPY-QUERY', 2)
    expect(payment).toMatchObject({ amount: 1000, currency: 'JPY' })
    expect(refund).toMatchObject({ currency: 'JPY', refund: { out_refund_no: 'R-JPY-1', amount: 300, total_refunded: 300 } })
  })
})
