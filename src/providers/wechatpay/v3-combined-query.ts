/**
 * @module WeChat Pay APIv3 combined query (合单查询订单), `GET /v3/combine-transactions/out-trade-no/{combine_out_trade_no}`,
 * the one way to ask about a combined payment's sub-order (WeChat: 请勿使用非合单支付的查单接口查询合单订单). The same URL,
 * with no query string, for a merchant and a service provider (服务商) alike; signed and verified as the ordinary
 * order query is, then the sub-order is found in the answer's `sub_orders` by its `out_trade_no`, its ids checked by
 * the rule of a combined payment notify, and its `trade_state` read as an ordinary answer's.
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012557006 (merchant)
 * @see https://pay.weixin.qq.com/docs/partner/apis/combine-payment/orders/query-order.html (service provider)
 */
import type { QueryOptions, QueryResult } from '../core/query-types'
import { refuse } from '../core/rejection'
import { WECHATPAY_API_BASE_URL, type WechatpayConfig } from './config'
import { wechatpayTradeStateOutcome } from './trade-state'
import { readV3OrderAnswer, v3SignedGet } from './v3-answer'
import { checkV3CombinedIdentity, readV3Combine } from './v3-combined'
import { optionalText, requiredText, type JsonFields } from './v3-json'
import type { V3RequestSigner } from './v3-request'
import { transactionPaymentEffect } from './v3-transaction'

/** Asks about the sub-order `outTradeNo` of the combine `combineOutTradeNo` (both checked printable ASCII). */
export async function v3CombinedQuery(
  config: V3RequestSigner,
  combineOutTradeNo: string,
  outTradeNo: string,
  options: QueryOptions,
): Promise<QueryResult> {
  const base = config.wechatpay.apiBaseUrl ?? WECHATPAY_API_BASE_URL
  const url = new URL(`${base}/v3/combine-transactions/out-trade-no/${encodeURIComponent(combineOutTradeNo)}`)
  const answer = await v3SignedGet(config, url, options)
  // The combine was named by WeChat's signed notification: "no such order" is never true of it, never "not paid".
  return readV3OrderAnswer(
    answer,
    config.wechatpay,
    options.now,
    (combined) => combinedSubOrderOutcome(combined, config.wechatpay, combineOutTradeNo, outTradeNo),
    'no_answer',
  )
}

/**
 * The sub-order's state in the combine's answer. A combine that lists no such sub-order, or one of another merchant
 * (or sub-merchant), is no answer about this order (`malformed_body`): never read as "not paid".
 */
function combinedSubOrderOutcome(
  combined: JsonFields,
  wechatpay: WechatpayConfig,
  combineOutTradeNo: string,
  outTradeNo: string,
): QueryResult {
  const { combine, subOrders } = readV3Combine(combined)
  if (requiredText(combine, 'combine_out_trade_no') !== combineOutTradeNo)
    refuse('malformed_body', 'answer is about another combined payment')
  const subOrder = subOrders.find((fields) => fields.out_trade_no === outTradeNo)
  if (subOrder === undefined) return refuse('malformed_body', 'the combined payment lists no such sub-order')
  checkV3CombinedIdentity(combine, [subOrder], wechatpay)
  return wechatpayTradeStateOutcome({
    channel: 'wechatpay.v3',
    outTradeNo,
    tradeState: requiredText(subOrder, 'trade_state'),
    transactionId: optionalText(subOrder, 'transaction_id') || null,
    // As the notify's sub-order: the combine's fields, then the sub-order's own.
    raw: { ...combine, ...subOrder },
    payment: () => transactionPaymentEffect(subOrder, 'total_amount'),
  })
}
