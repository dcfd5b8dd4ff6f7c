/**
 * @module WeChat Pay APIv3 combined payments (合单支付): a TRANSACTION.SUCCESS whose resource names the combine
 * (`combine_appid`, `combine_mchid`, `combine_out_trade_no`, `combine_payer_info`) and lists `sub_orders`, each with
 * its own `mchid` (and `sub_mchid`, `sub_appid` in partner mode), `trade_state`, `transaction_id`, `out_trade_no`,
 * `success_time` and `amount.total_amount`; there is no top-level `mchid`, `out_trade_no` or `amount`.
 * @see https://pay.weixin.qq.com/docs/partner/apis/combine-payment/orders/payment-notice.html
 */
import { refuse } from '../core/rejection'
import type { NotificationEffect, VerifiedNotification } from '../core/types'
import type { WechatpayConfig } from './config'
import { combinedNotification, subOrderList } from './combined'
import { checkCombinedIdentity, combinedFieldNames, namedIdentity, V3_DIRECT_FIELDS } from './identity'
import { isFields, optionalText, requiredText, type JsonFields } from './v3-json'
import { transactionPaymentEffect } from './v3-transaction'

/** The sub-orders' ids are the channel's own inside `sub_orders`; the combine names its merchant and app. */
const V3_COMBINED_FIELDS = combinedFieldNames('sub_orders', V3_DIRECT_FIELDS, { mchid: 'combine_mchid', appid: 'combine_appid' })

/** A combined payment names its combine's merchant where an ordinary payment names its own. */
export function isCombinedTransaction(resource: JsonFields): boolean {
  return resource.combine_mchid !== undefined
}

/** `notificationId` is the callback's `id`. */
export function combinedV3Notification(notificationId: string, resource: JsonFields, wechatpay: WechatpayConfig): VerifiedNotification {
  const { combine, subOrders } = readV3Combine(resource)
  checkV3CombinedIdentity(combine, subOrders, wechatpay)
  const reports = subOrders.map((fields) => ({ outTradeNo: requiredText(fields, 'out_trade_no'), effect: subOrderEffect(fields), fields }))
  return combinedNotification('wechatpay.v3', notificationId, combine, reports, optionalText(combine, 'combine_out_trade_no') ?? '')
}

/** A v3 combined transaction (the notify's resource, the combined query's answer): the combine's fields, and its sub-orders. */
export function readV3Combine(resource: JsonFields): { combine: JsonFields; subOrders: JsonFields[] } {
  const { sub_orders: listed, ...combine } = resource
  const subOrders = subOrderList(listed, 'sub_orders').map((entry) =>
    isFields(entry) ? entry : refuse('malformed_body', 'a sub_orders entry is not an object'),
  )
  return { combine, subOrders }
}

/** The combine's ids and each of `subOrders`' own, by the one identity rule (`checkCombinedIdentity`). */
export function checkV3CombinedIdentity(combine: JsonFields, subOrders: readonly JsonFields[], wechatpay: WechatpayConfig): void {
  const combineIds = { mchid: optionalText(combine, 'combine_mchid'), appid: optionalText(combine, 'combine_appid') }
  checkCombinedIdentity(
    combineIds,
    subOrders.map((fields) => namedIdentity(fields, V3_DIRECT_FIELDS)),
    wechatpay,
    V3_COMBINED_FIELDS,
  )
}

/** A paid sub-order is its order's payment; one in any other state is recorded by its order and changes nothing. */
function subOrderEffect(subOrder: JsonFields): NotificationEffect {
  const state = requiredText(subOrder, 'trade_state')
  return state === 'SUCCESS' ? transactionPaymentEffect(subOrder, 'total_amount') : { kind: 'none', reason: `trade_state=${state}` }
}
