/**
 * A WeChat Pay v2 refund names its merchant only in its unsigned envelope (`req_info` is encrypted with the APIv2 key,
 * not signed, and names no merchant). A service provider saved as a direct merchant shares that key with its
 * sub-merchants, so a sub-merchant's refund with `sub_mch_id` cut from the envelope reads as the direct merchant's: it
 * must not pay, nor refund, the direct merchant's order of that number. Without sub-merchants, a direct merchant's v2
 * refund still proves its payment (contract: v2 `total_fee`).
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { v2RefundNotify } from '../support/refunds'
import {
  ACCEPT,
  drainOutbox,
  freshPayment,
  notify,
  orderView,
  ownKeys,
  recordForwarded,
  registerMerchant,
  registerOrder,
  type ForwardedCall,
} from './harness'

const forwarded: ForwardedCall[] = []
beforeEach(() => {
  forwarded.length = 0
  recordForwarded(forwarded)
})
const xml = (body: string) => ({ body, headers: { 'content-type': 'text/xml' } })
const transactionOf = (body: string) => /<transaction_id><!\[CDATA\[([^\]]+)\]\]>/.exec(body)![1]!

describe('a v2 refund opened by a key the service provider shares with its sub-merchants', () => {
  it('stripped of sub_mch_id and posted to the provider as a direct merchant, pays and refunds nothing there', async () => {
    const sp = ownKeys('sharedkey-sp')
    const sub = { subMchid: '1903333331', subAppid: 'wx5555555555555501' }
    await registerMerchant('sharedkey-sub', { identity: sp, providers: ['wechatpay'], wechatpayFields: sub })
    await registerMerchant('sharedkey-direct', { identity: sp, providers: ['wechatpay'] })
    const pay = freshPayment('wechatpay.v2', { identity: sp, partner: sub, amount: 1000 })
    expect((await notify('wechatpay.v2', 'sharedkey-sub', pay)).status).toBe(200)
    const refund = v2RefundNotify({
      outTradeNo: pay.outTradeNo,
      outRefundNo: `R-${pay.outTradeNo}`,
      refund: 1,
      total: 1000,
      transactionId: transactionOf(pay.body),
      identity: sp.wechat,
    })
    const partnerBody = refund.body.replace(
      '<nonce_str>',
      `<sub_mch_id><![CDATA[${sub.subMchid}]]></sub_mch_id><sub_appid><![CDATA[${sub.subAppid}]]></sub_appid><nonce_str>`,
    )
    const accepted = await notify('wechatpay.v2', 'sharedkey-sub', xml(partnerBody))
    expect({ status: accepted.status, body: await accepted.text() }).toEqual(ACCEPT['wechatpay.v2'])

    // The direct merchant's own pending order of the same number (each numbers its orders as it likes).
    await registerOrder('sharedkey-direct', pay.outTradeNo, 1000)
    const stripped = await notify('wechatpay.v2', 'sharedkey-direct', xml(refund.body))
    expect(stripped.status).not.toBe(200)
    await drainOutbox('sharedkey-direct', 'wechatpay', pay.outTradeNo)
    const view = await orderView('sharedkey-direct', 'wechatpay', pay.outTradeNo)
    expect({ status: view?.status, events: view?.events ?? [] }).toEqual({ status: 'pending', events: [] })
    expect(forwarded.filter((call) => call.merchantId === 'sharedkey-direct')).toEqual([])
  })

  it('a direct merchant with no sub-merchants under its mchid: its refund still proves the payment, forwarded first', async () => {
    const own = ownKeys('sharedkey-alone')
    await registerMerchant('sharedkey-alone', { identity: own, providers: ['wechatpay'] })
    const outTradeNo = `ALONE-${Date.now()}`
    const refund = v2RefundNotify({
      outTradeNo,
      outRefundNo: `R-${outTradeNo}`,
      refund: 1,
      total: 1000,
      transactionId: '4200000000202612030000000001',
      identity: own.wechat,
    })
    const accepted = await notify('wechatpay.v2', 'sharedkey-alone', xml(refund.body))
    expect({ status: accepted.status, body: await accepted.text() }).toEqual(ACCEPT['wechatpay.v2'])
    await drainOutbox('sharedkey-alone', 'wechatpay', outTradeNo)
    expect(forwarded.filter((call) => call.outTradeNo === outTradeNo).map((call) => call.type)).toEqual([
      'payment.succeeded',
      'refund.succeeded',
    ])
  })
})
