/**
 * @module WeChat Pay combined payments (合单支付) as WeChat sends and answers them, signed live with node:crypto and the
 * throwaway keys in test/fixtures/keys.json (never paygate's own code), in the formats of test/fixtures/signers: the
 * v3 and v2 combined payment notifies, the v3 combined query (`GET /v3/combine-transactions/out-trade-no/{no}`)
 * answered from a model of the combines WeChat holds, and a log of every ordinary order query asked. Also what the
 * combined-payment e2e tests share: the fixture clock, posting a committed fixture, and what the merchant received.
 */
import { randomBytes } from 'node:crypto'
import { http, HttpResponse } from 'msw'
import { expect, vi } from 'vitest'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import { network } from '../msw'
import type { Channel } from '../../src/providers'
import { drainOutbox, fixturePost, notify, orderView } from '../security/harness'
import {
  signV2,
  v2Xml,
  v3SignedHeaders,
  v3TransactionNotify,
  type SignedNotify,
  type SubMerchant,
  type V3Signer,
  type WechatIdentity,
} from '../security/signing'
import { type ReceivedEvent, WECHAT_API } from './refunds'

export interface CombinedSubOrder {
  outTradeNo: string
  amount: number
  /** WeChat's `trade_state` of it; SUCCESS unless said. */
  tradeState?: string
  transactionId?: string
}

/** One combined payment: whose it is (the combine's and each sub-order's ids), its number and its sub-orders. */
export interface Combine {
  identity: WechatIdentity
  combineOutTradeNo: string
  subOrders: CombinedSubOrder[]
  /** Partner mode: every sub-order names this sub-merchant. */
  partner?: SubMerchant
}

const transactionIdOf = (subOrder: CombinedSubOrder) => subOrder.transactionId ?? `4200${subOrder.outTradeNo.replace(/\D/g, '').slice(-20)}`

/** The v3 combined transaction (notify resource and query answer alike), as test/fixtures/signers/wechatpay-v3.mjs has it. */
export function v3CombinedTransaction({ identity, combineOutTradeNo, subOrders, partner }: Combine): Record<string, unknown> {
  return {
    combine_appid: identity.appid,
    combine_mchid: identity.mchid,
    combine_out_trade_no: combineOutTradeNo,
    scene_info: { device_id: 'POS1:1' },
    sub_orders: subOrders.map((subOrder) => ({
      mchid: identity.mchid,
      ...(partner === undefined ? {} : { sub_mchid: partner.subMchid, ...(partner.subAppid ? { sub_appid: partner.subAppid } : {}) }),
      trade_type: 'NATIVE',
      trade_state: subOrder.tradeState ?? 'SUCCESS',
      bank_type: 'OTHERS',
      attach: '',
      ...(subOrder.tradeState === undefined || subOrder.tradeState === 'SUCCESS' ? { success_time: '2025-11-24T23:59:58+08:00' } : {}),
      transaction_id: transactionIdOf(subOrder),
      out_trade_no: subOrder.outTradeNo,
      amount: { total_amount: subOrder.amount, payer_amount: subOrder.amount, currency: 'CNY', payer_currency: 'CNY' },
    })),
    combine_payer_info: { openid: 'oPaygateCombinedOpenid0000001' },
  }
}

/** A v3 TRANSACTION.SUCCESS of a combined payment, its resource encrypted under the merchant's APIv3 key, signed now. */
export function v3CombinedNotify(combine: Combine): SignedNotify {
  return v3TransactionNotify(v3CombinedTransaction(combine), { apiV3Key: combine.identity.apiV3Key })
}

/** A v2 combined payment notify (MD5), as test/fixtures/signers/wechatpay-v2.mjs has it. */
export function v2CombinedNotify({ identity, combineOutTradeNo, subOrders, partner }: Combine): SignedNotify {
  const openid = 'oPaygateCombinedOpenid0000001'
  const orderList = subOrders.map((subOrder) => ({
    appid: identity.appid,
    mch_id: identity.mchid,
    ...(partner === undefined ? {} : { sub_mch_id: partner.subMchid, ...(partner.subAppid ? { sub_appid: partner.subAppid } : {}) }),
    openid,
    total_fee: subOrder.amount,
    cash_fee: subOrder.amount,
    transaction_id: transactionIdOf(subOrder),
    out_trade_no: subOrder.outTradeNo,
    attach: '',
    time_end: '20251124235958',
  }))
  const fields = {
    bank_type: 'OTHERS',
    combine_appid: identity.appid,
    combine_mch_id: identity.mchid,
    combine_openid: openid,
    combine_out_trade_no: combineOutTradeNo,
    nonce_str: randomBytes(16).toString('hex').toUpperCase(),
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    sign_type: 'MD5',
    sub_order_list: JSON.stringify({ order_num: orderList.length, order_list: orderList }),
    trade_type: 'JSAPI',
  }
  const sign = signV2(fields, identity.apiV2Key, 'MD5')
  return { body: v2Xml({ ...fields, sign }), headers: { 'content-type': 'text/xml' }, signature: sign }
}

export interface CombinedQueryLog {
  /** The combine numbers asked about, in order, with the query string each was asked with. */
  asked: { combineOutTradeNo: string; search: string }[]
}

/**
 * WeChat's side of the v3 combined query: each combine in `combines` (a model the test may change) answered as its
 * current state, signed with `signer` (platform certificate A's key by default); any other combine 404
 * ORDER_NOT_EXIST.
 */
export function v3CombinedQueryAnswers(combines: readonly Combine[], signer: V3Signer = 'platformCertA'): CombinedQueryLog {
  const log: CombinedQueryLog = { asked: [] }
  network.use(
    http.get(`${WECHAT_API}/v3/combine-transactions/out-trade-no/:combineOutTradeNo`, ({ request, params }) => {
      const combineOutTradeNo = decodeURIComponent(String(params.combineOutTradeNo))
      log.asked.push({ combineOutTradeNo, search: new URL(request.url).search })
      const combine = combines.find((c) => c.combineOutTradeNo === combineOutTradeNo)
      if (combine === undefined) return HttpResponse.json({ code: 'ORDER_NOT_EXIST', message: '订单不存在' }, { status: 404 })
      const body = JSON.stringify(v3CombinedTransaction(combine))
      return new HttpResponse(body, { headers: { 'content-type': 'application/json', ...v3SignedHeaders(body, signer) } })
    }),
  )
  return log
}

export interface OrdinaryQueryLog {
  /** `v3 <out_trade_no>` or `v2 orderquery`, one per ordinary order query asked. */
  asked: string[]
}

/**
 * Every ordinary order query (v3 direct and partner, v2 `orderquery`), logged. v3 answers what WeChat answers for a
 * number it has no ordinary order of, 404 ORDER_NOT_EXIST; v2 answers HTTP 503.
 */
export function ordinaryQueryLog(): OrdinaryQueryLog {
  const log: OrdinaryQueryLog = { asked: [] }
  const v3 = ({ params }: { params: Record<string, unknown> }) => {
    log.asked.push(`v3 ${decodeURIComponent(String(params.outTradeNo))}`)
    return HttpResponse.json({ code: 'ORDER_NOT_EXIST', message: '订单不存在' }, { status: 404 })
  }
  network.use(
    http.get(`${WECHAT_API}/v3/pay/transactions/out-trade-no/:outTradeNo`, v3),
    http.get(`${WECHAT_API}/v3/pay/partner/transactions/out-trade-no/:outTradeNo`, v3),
    http.post(`${WECHAT_API}/pay/orderquery`, () => {
      log.asked.push('v2 orderquery')
      return new HttpResponse('unavailable', { status: 503 })
    }),
  )
  return log
}

// --- The combined-payment e2e tests (test/e2e/combined-*.test.ts): committed fixtures through the real Worker --------

export type WechatChannel = Extract<Channel, 'wechatpay.v2' | 'wechatpay.v3'>

/** v3 fixtures are signed at their clock (v2 notifies carry no timestamp). */
export function atFixtureClock(): void {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(v3Fixtures.now)
}

/** For `afterEach`: the real clock again, and every spy restored. */
export function restoreClockAndMocks(): void {
  vi.useRealTimers()
  vi.restoreAllMocks()
}

/** Posts a fixture to the merchant's notify route of `channel`: the reply's status and body. */
export async function sendFixture(
  channel: WechatChannel,
  merchantId: string,
  fixture: { body?: string; headers?: Record<string, string> },
): Promise<{ status: number; body: string }> {
  const reply = await notify(channel, merchantId, fixturePost(channel, fixture))
  return { status: reply.status, body: await reply.text() }
}

/** Runs each of `subOrders`' alarms and returns the payment events the merchant received, once `count` arrived. */
export async function forwardedPayments(
  received: ReceivedEvent[],
  merchantId: string,
  subOrders: readonly { outTradeNo: string }[],
  count: number,
): Promise<ReceivedEvent[]> {
  for (const { outTradeNo } of subOrders) await drainOutbox(merchantId, 'wechatpay', outTradeNo)
  return vi.waitFor(
    () => {
      const payments = received.filter((e) => e.type === 'payment.succeeded')
      expect(payments).toHaveLength(count)
      return payments
    },
    { timeout: 5_000 },
  )
}

/** The verdicts of an order's audit trail, sorted (the frozen clock gives them one time). */
export async function verdicts(merchantId: string, outTradeNo: string): Promise<string[]> {
  const view = await orderView(merchantId, 'wechatpay', outTradeNo)
  return (view?.notifications ?? []).map((n) => n.verdict).sort()
}
