/**
 * End to end through the real Worker: a refund of nothing. Neither provider refunds 0 fen (a refund request's amount
 * is at least 1), so a signed refund notification stating 0 is malformed, as a payment of 0 is: it must not mark a
 * paid order refunded in part, nor forward a refund.succeeded of 0.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import { getOrder, notify, putFixtureMerchant } from '../support/gateway'

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
