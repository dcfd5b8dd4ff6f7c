/**
 * End to end through the real Worker: payments in another currency than CNY. Alipay states a cross-border trade's
 * `total_amount` in its `trans_currency` (the buyer pays `pay_amount` in `pay_currency`); the order registered in that
 * currency is paid by it, and the merchant's event names the currency its amount is in.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import alipayFixtures from '../fixtures/alipay.json'
import { orderStub } from '../../src/order/order-key'
import { admin, getOrder, notify, putFixtureMerchant, recordForwarded } from '../support/gateway'

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
