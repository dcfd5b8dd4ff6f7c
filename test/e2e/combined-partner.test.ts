/**
 * WeChat Pay combined payments (合单支付) in partner mode (服务商) through the real Worker: the combine's ids and each
 * sub-order's `mchid` are the service provider's, and each sub-order names its sub-merchant (`sub_mchid`,
 * `sub_appid`; v2 `sub_mch_id`). A sub-merchant is a paygate merchant of its own (test/e2e/setups.test.ts): it takes
 * a combined payment whose sub-orders are all its own, each its order's payment, forwarded once; one sub-order of
 * another sub-merchant refuses the whole callback, wherever it is sent. Fixtures are signed by test/fixtures/signers
 * (wechatpay-axios-plugin, node:crypto).
 */
import { afterEach, describe, expect, it } from 'vitest'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import { ACCEPT, forwardUrl, orderView, registerFixtureMerchant, registerMerchant, registerOrder, rejectReply } from '../security/harness'
import { atFixtureClock, forwardedPayments, restoreClockAndMocks, sendFixture, verdicts, type WechatChannel } from '../support/combined'
import { receiveEvents } from '../support/refunds'

const { partner } = v3Fixtures

/**
 * Each channel's fixtures, the two sub-orders (order number, amount) of sub-merchant A, and the refusals' wording:
 * a foreign sub-merchant is named by the sub-order field that holds it.
 */
const PARTNER_COMBINED = {
  'wechatpay.v3': {
    cases: v3Fixtures.cases,
    subOrders: [
      { outTradeNo: 'TC20251124021', amount: 100 },
      { outTradeNo: 'TC20251124022', amount: 200 },
    ],
    subMchidField: 'sub_mchid',
    foreignField: 'sub_orders.sub_mchid',
    badSignature: 'signature does not verify',
  },
  'wechatpay.v2': {
    cases: v2Fixtures.cases,
    subOrders: [
      { outTradeNo: 'TC20251124121', amount: 100 },
      { outTradeNo: 'TC20251124122', amount: 200 },
    ],
    subMchidField: 'sub_mch_id',
    foreignField: 'order_list.sub_mch_id',
    badSignature: 'v2 sign does not match',
  },
} as const

/** Sub-merchants A and B of the fixtures' service provider (the fixture keys are the provider's), WeChat Pay only. */
const SUB_A = { providers: ['wechatpay' as const], wechatpayFields: { subMchid: partner.subMchid, subAppid: partner.subAppid } }
const SUB_B = { providers: ['wechatpay' as const], wechatpayFields: { subMchid: partner.otherSubMchid, subAppid: partner.otherSubAppid } }

afterEach(restoreClockAndMocks)

/** Sub-merchant A under `merchantId`, with both of its sub-orders registered at their amounts. */
async function subMerchantWithOrders(merchantId: string, channel: WechatChannel): Promise<void> {
  await registerFixtureMerchant(merchantId, SUB_A)
  for (const { outTradeNo, amount } of PARTNER_COMBINED[channel].subOrders) await registerOrder(merchantId, outTradeNo, amount)
}

describe.each(['wechatpay.v3', 'wechatpay.v2'] as const)('a %s partner-mode combined payment (服务商合单支付)', (channel) => {
  const { cases, subOrders, subMchidField, foreignField, badSignature } = PARTNER_COMBINED[channel]
  const suffix = channel.replace('wechatpay.', '')

  it('pays each sub-order of the sub-merchant once, forwards one payment.succeeded each, and forwards nothing more on a redelivery', async () => {
    atFixtureClock()
    const merchantId = `partner-combined-${suffix}`
    await subMerchantWithOrders(merchantId, channel)
    const received = receiveEvents(forwardUrl(merchantId))

    expect(await sendFixture(channel, merchantId, cases.combinedPartnerPayment)).toEqual(ACCEPT[channel])
    for (const { outTradeNo, amount } of subOrders) {
      expect(await orderView(merchantId, 'wechatpay', outTradeNo)).toMatchObject({ status: 'paid', amount })
    }
    const payments = await forwardedPayments(received, merchantId, subOrders, 2)
    expect(payments.map((e) => [e.data.out_trade_no, e.data.amount]).sort()).toEqual(subOrders.map((s) => [s.outTradeNo, s.amount]))
    // Each event's raw fields are its own sub-order's, its sub-merchant named, beside the combine's.
    for (const event of payments) {
      expect(event.data.raw).toMatchObject({ out_trade_no: event.data.out_trade_no, [subMchidField]: partner.subMchid })
    }

    // WeChat resends it: a duplicate for every sub-order, nothing forwarded again.
    expect(await sendFixture(channel, merchantId, cases.combinedPartnerPayment)).toEqual(ACCEPT[channel])
    for (const { outTradeNo } of subOrders) expect(await verdicts(merchantId, outTradeNo)).toEqual(['accepted', 'duplicate'])
    await forwardedPayments(received, merchantId, subOrders, 2)
  })

  it('refuses as a whole a callback with a sub-order of another sub-merchant (sent to either), a direct one, and one altered after signing', async () => {
    atFixtureClock()
    const merchantId = `partner-combined-refused-${suffix}`
    // Sub-merchant B claims its identity once, for both channels.
    const otherId = 'partner-combined-b'
    await subMerchantWithOrders(merchantId, channel)
    await registerMerchant(otherId, SUB_B)
    const foreign = rejectReply(channel, 403, `${foreignField} does not belong to this merchant`)

    expect(await sendFixture(channel, merchantId, cases.combinedPartnerOtherSubMerchant)).toEqual(foreign)
    expect(await sendFixture(channel, otherId, cases.combinedPartnerOtherSubMerchant)).toEqual(foreign)
    expect(await sendFixture(channel, merchantId, cases.combinedPartnerTampered)).toEqual(rejectReply(channel, 401, badSignature))
    // A direct merchant's combined payment (no sub-merchant in its sub-orders) is no sub-merchant's either.
    const direct = rejectReply(channel, 403, `no ${foreignField}: a direct message for a sub-merchant`)
    expect(await sendFixture(channel, merchantId, cases.combinedPayment)).toEqual(direct)
    // None reached an order: the sub-merchant's own sub-orders stay unpaid, and B heard of no order.
    for (const { outTradeNo } of subOrders) {
      expect(await orderView(merchantId, 'wechatpay', outTradeNo)).toMatchObject({ status: 'pending', notifications: [] })
      expect(await orderView(otherId, 'wechatpay', outTradeNo)).toBeNull()
    }
  })
})
