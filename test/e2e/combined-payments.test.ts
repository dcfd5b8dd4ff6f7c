/**
 * WeChat Pay combined payments (合单支付) through the real Worker: each sub-order of the merchant is its order's
 * payment, stored once by its own order object and forwarded once as `payment.succeeded`; WeChat gets the accept
 * reply only when every sub-order is stored. Also: the payment family's events paygate does not map
 * (`TRANSACTION.FAIL`) are forwarded once as `provider.notification`. Fixtures are signed by test/fixtures/signers
 * (wechatpay-axios-plugin, node:crypto).
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import { OrderObject, type IngestRequest } from '../../src/order/order-object'
import { subjectStub } from '../../src/order/subject-key'
import { ACCEPT, forwardUrl, orderView, registerFixtureMerchant, registerOrder, rejectReply } from '../security/harness'
import { atFixtureClock, forwardedPayments, restoreClockAndMocks, sendFixture, verdicts, type WechatChannel } from '../support/combined'
import { receiveEvents } from '../support/refunds'

/** Each channel's fixtures: the two sub-orders (order number, amount) of its combined payment. */
const COMBINED = {
  'wechatpay.v2': {
    cases: v2Fixtures.cases,
    subOrders: [
      { outTradeNo: 'TC20251124101', amount: 100 },
      { outTradeNo: 'TC20251124102', amount: 200 },
    ],
  },
  'wechatpay.v3': {
    cases: v3Fixtures.cases,
    subOrders: [
      { outTradeNo: 'TC20251124001', amount: 100 },
      { outTradeNo: 'TC20251124002', amount: 200 },
    ],
  },
} as const

afterEach(restoreClockAndMocks)

/** A merchant holding the fixture ids, with both sub-orders registered at their amounts. */
async function merchantWithOrders(merchantId: string, channel: WechatChannel): Promise<void> {
  await registerFixtureMerchant(merchantId)
  for (const { outTradeNo, amount } of COMBINED[channel].subOrders) await registerOrder(merchantId, outTradeNo, amount)
}

describe.each(['wechatpay.v3', 'wechatpay.v2'] as const)('a %s combined payment (合单支付)', (channel) => {
  const { cases, subOrders } = COMBINED[channel]
  const suffix = channel.replace('wechatpay.', '')

  it('pays each registered sub-order once, forwards one payment.succeeded each, and takes the resent notify for a duplicate', async () => {
    atFixtureClock()
    const merchantId = `combined-${suffix}`
    await merchantWithOrders(merchantId, channel)
    const received = receiveEvents(forwardUrl(merchantId))

    expect(await sendFixture(channel, merchantId, cases.combinedPayment)).toEqual(ACCEPT[channel])
    for (const { outTradeNo, amount } of subOrders) {
      expect(await orderView(merchantId, 'wechatpay', outTradeNo)).toMatchObject({ status: 'paid', amount })
    }
    const payments = await forwardedPayments(received, merchantId, subOrders, 2)
    expect(payments.map((e) => [e.data.out_trade_no, e.data.amount]).sort()).toEqual(subOrders.map((s) => [s.outTradeNo, s.amount]))
    // Each event's raw fields are its own sub-order's, beside the combine's.
    for (const event of payments) {
      expect(event.data.raw).toMatchObject({ out_trade_no: event.data.out_trade_no })
      expect(event.data.raw).toHaveProperty(channel === 'wechatpay.v3' ? 'combine_mchid' : 'combine_mch_id')
    }

    // WeChat resends it: a duplicate for every sub-order, nothing forwarded again.
    expect(await sendFixture(channel, merchantId, cases.combinedPayment)).toEqual(ACCEPT[channel])
    for (const { outTradeNo } of subOrders) expect(await verdicts(merchantId, outTradeNo)).toEqual(['accepted', 'duplicate'])
    await forwardedPayments(received, merchantId, subOrders, 2)
  })

  it('tells WeChat to retry when one sub-order could not be stored; the retry stores only that one', async () => {
    atFixtureClock()
    const merchantId = `combined-fault-${suffix}`
    await merchantWithOrders(merchantId, channel)
    const received = receiveEvents(forwardUrl(merchantId))
    const [stored, failing] = subOrders
    // The failing sub-order's object throws before it stores anything, once (RPC dispatches through the prototype).
    const ingest = OrderObject.prototype.ingest
    const fault = vi.spyOn(OrderObject.prototype, 'ingest').mockImplementation(async function (this: OrderObject, request: IngestRequest) {
      if (request.order.outTradeNo !== failing.outTradeNo) return ingest.call(this, request)
      fault.mockRestore()
      throw new Error('storage fault')
    })

    expect(await sendFixture(channel, merchantId, cases.combinedPayment)).toEqual(
      rejectReply(channel, 503, 'temporarily unavailable, retry later'),
    )
    expect(await orderView(merchantId, 'wechatpay', stored.outTradeNo)).toMatchObject({ status: 'paid' })
    expect(await orderView(merchantId, 'wechatpay', failing.outTradeNo)).toMatchObject({ status: 'pending', notifications: [] })

    expect(await sendFixture(channel, merchantId, cases.combinedPayment)).toEqual(ACCEPT[channel])
    expect(await verdicts(merchantId, stored.outTradeNo)).toEqual(['accepted', 'duplicate'])
    expect(await verdicts(merchantId, failing.outTradeNo)).toEqual(['accepted'])
    const payments = await forwardedPayments(received, merchantId, subOrders, 2)
    expect(payments.map((e) => e.data.out_trade_no).sort()).toEqual(subOrders.map((s) => s.outTradeNo))
  })

  it('refuses the whole notify when a sub-order is of another merchant, and one whose signature does not verify', async () => {
    atFixtureClock()
    const merchantId = `combined-refused-${suffix}`
    await merchantWithOrders(merchantId, channel)
    const foreign =
      channel === 'wechatpay.v3'
        ? 'sub_orders.mchid does not belong to this merchant'
        : 'order_list.mch_id does not belong to this merchant'
    expect(await sendFixture(channel, merchantId, cases.combinedForeignSubOrder)).toEqual(rejectReply(channel, 403, foreign))
    const forged = channel === 'wechatpay.v3' ? v3Fixtures.cases.combinedStrangerKey : v2Fixtures.cases.combinedTampered
    const badSignature = channel === 'wechatpay.v3' ? 'signature does not verify' : 'v2 sign does not match'
    expect(await sendFixture(channel, merchantId, forged)).toEqual(rejectReply(channel, 401, badSignature))
    // Neither reached an order: the merchant's own sub-order stays unpaid.
    for (const { outTradeNo } of subOrders) {
      expect(await orderView(merchantId, 'wechatpay', outTradeNo)).toMatchObject({ status: 'pending', notifications: [] })
    }
  })
})

describe('the payment family’s events paygate does not map', () => {
  it('accepts a TRANSACTION.FAIL and forwards it once as provider.notification about its transaction', async () => {
    atFixtureClock()
    const merchantId = 'transaction-fail'
    await registerFixtureMerchant(merchantId)
    const received = receiveEvents(forwardUrl(merchantId))
    const { transactionFail } = v3Fixtures.cases
    const subject = { merchantId, provider: 'wechatpay', subjectKey: '4200002025112400000001' }

    expect(await sendFixture('wechatpay.v3', merchantId, transactionFail)).toEqual(ACCEPT['wechatpay.v3'])
    expect(await sendFixture('wechatpay.v3', merchantId, transactionFail)).toEqual(ACCEPT['wechatpay.v3'])
    await runDurableObjectAlarm(subjectStub(env, subject))
    await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 5_000 })
    expect(received[0]).toMatchObject({
      type: 'provider.notification',
      data: {
        merchant_id: merchantId,
        notification_type: 'TRANSACTION.FAIL',
        notification_id: (JSON.parse(transactionFail.body) as { id: string }).id,
        subject_id: '4200002025112400000001',
        raw: transactionFail.resource,
      },
    })
    // Not an order's payment: the order it names is untouched.
    expect(await orderView(merchantId, 'wechatpay', 'T20251124001')).toBeNull()
  })
})
