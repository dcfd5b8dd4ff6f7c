/**
 * @module WeChat Pay APIv3 order query, `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=` (a
 * sub-merchant's: `/v3/pay/partner/transactions/out-trade-no/{out_trade_no}?sp_mchid=&sub_mchid=`):
 * the request signed with the merchant API key (`WECHATPAY2-SHA256-RSA2048` Authorization), the answer
 * verified exactly like a callback (timestamp window, key by `Wechatpay-Serial`, raw bytes) before
 * its `Transaction` is read (protocols.md §5.2). A combined payment's sub-order is asked about through its combine
 * instead (v3-combined-query.ts): WeChat answers this query for no combined order.
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4013070356 (query by out_trade_no)
 * @see https://pay.weixin.qq.com/doc/v3/partner/4012760325 (partner query by out_trade_no)
 */
import { defineQueryClient } from '../core/query-exchange'
import type { QueryResult } from '../core/query-types'
import { refuse } from '../core/rejection'
import { WECHATPAY_API_BASE_URL, type WechatpayConfig } from './config'
import { wechatpayTradeStateOutcome } from './trade-state'
import { checkV3Identity } from './identity'
import { readV3OrderAnswer, v3QueryConfig, v3SignedGet } from './v3-answer'
import { v3CombinedQuery } from './v3-combined-query'
import { optionalText, requiredText } from './v3-json'
import { transactionPaymentEffect } from './v3-transaction'

// The request signature's pieces live in v3-request.ts; the reference vectors import them from here too.
export { signV3Request, v3Authorization, v3RequestMessage, type V3RequestToSign } from './v3-request'

/** Direct: `/v3/pay/transactions/…?mchid=`; a sub-merchant's order: `/v3/pay/partner/transactions/…?sp_mchid=&sub_mchid=`. */
function transactionUrl(wechatpay: WechatpayConfig, outTradeNo: string): URL {
  const base = wechatpay.apiBaseUrl ?? WECHATPAY_API_BASE_URL
  const order = encodeURIComponent(outTradeNo)
  if (wechatpay.subMchid === undefined) {
    const url = new URL(`${base}/v3/pay/transactions/out-trade-no/${order}`)
    url.searchParams.set('mchid', wechatpay.mchid)
    return url
  }
  const url = new URL(`${base}/v3/pay/partner/transactions/out-trade-no/${order}`)
  url.searchParams.set('sp_mchid', wechatpay.mchid)
  url.searchParams.set('sub_mchid', wechatpay.subMchid)
  return url
}

export const wechatpayV3Query = defineQueryClient({
  channel: 'wechatpay.v3',
  provider: 'wechatpay',
  configOf: v3QueryConfig,
  missingKeys: 'WeChat Pay APIv3 query needs apiV3Key, merchantPrivateKey and merchantSerial',
  async query(config, outTradeNo, options) {
    const answer = await v3SignedGet(config, transactionUrl(config.wechatpay, outTradeNo), options)
    return readV3OrderAnswer(answer, config.wechatpay, options.now, (transaction) => outcomeOf(transaction, config.wechatpay, outTradeNo))
  },
  combinedQuery: v3CombinedQuery,
})

/** The one mapping of v3 `trade_state` to query results. */
function outcomeOf(transaction: Record<string, unknown>, wechatpay: WechatpayConfig, outTradeNo: string): QueryResult {
  checkV3Identity(transaction, wechatpay)
  if (requiredText(transaction, 'out_trade_no') !== outTradeNo) {
    refuse('malformed_body', 'answer is about another order')
  }
  return wechatpayTradeStateOutcome({
    channel: 'wechatpay.v3',
    outTradeNo,
    tradeState: requiredText(transaction, 'trade_state'),
    transactionId: optionalText(transaction, 'transaction_id') || null,
    raw: transaction,
    payment: () => transactionPaymentEffect(transaction),
  })
}
