/**
 * @module WeChat Pay APIv2 combined payments (合单支付): a pay notify, signed like any other, that names the combine
 * (`combine_appid`, `combine_mch_id`, `combine_openid`, `combine_out_trade_no`) and carries its sub-orders as the
 * JSON text `sub_order_list`: `{"order_num": n, "order_list": [{appid, mch_id, total_fee, transaction_id,
 * out_trade_no, time_end, attach, …}]}`, amounts as JSON numbers.
 * @see https://pay.weixin.qq.com/wiki/doc/api/combine.php?chapter=24_4&index=5
 */
import { refuse } from '../core/rejection'
import type { VerifiedNotification } from '../core/types'
import type { WechatpayConfig } from './config'
import { combinedNotification, subOrderList } from './combined'
import { checkCombinedIdentity, combinedFieldNames, namedIdentity, V2_IDENTITY_FIELDS } from './identity'
import { requiredField, v2PaymentEffect } from './v2-payment'
import type { XmlFields } from './xml'

/** The sub-orders' ids are the channel's own inside `order_list`; the combine names its merchant and app. */
const V2_COMBINED_FIELDS = combinedFieldNames('order_list', V2_IDENTITY_FIELDS, { mchid: 'combine_mch_id', appid: 'combine_appid' })

/** A combined payment names its combine's merchant where an ordinary pay notify names its own. */
export function isCombinedPayment(fields: XmlFields): boolean {
  return fields.combine_mch_id !== undefined
}

/**
 * `signed`: the fields the sign covers; `notificationId`: the callback's digest; `paid`: its `result_code` is SUCCESS
 * (WeChat sends this notify on success; a FAIL is recorded by each order and changes nothing, as a single one).
 */
export function combinedV2Notification(
  signed: XmlFields,
  notificationId: string,
  wechatpay: WechatpayConfig,
  paid: boolean,
): VerifiedNotification {
  const { sub_order_list: listText, ...combine } = signed
  const subOrders = readSubOrderList(listText)
  const combineIds = { mchid: combine.combine_mch_id ?? null, appid: combine.combine_appid ?? null }
  checkCombinedIdentity(
    combineIds,
    subOrders.map((fields) => namedIdentity(fields, V2_IDENTITY_FIELDS)),
    wechatpay,
    V2_COMBINED_FIELDS,
  )
  const reports = subOrders.map((fields) => ({
    outTradeNo: requiredField(fields, 'out_trade_no'),
    effect: paid ? v2PaymentEffect(fields) : { kind: 'none' as const, reason: 'result_code=FAIL' },
    fields,
  }))
  return combinedNotification('wechatpay.v2', notificationId, combine, reports, combine.combine_out_trade_no ?? '')
}

function readSubOrderList(text: string | undefined): XmlFields[] {
  let list: unknown
  try {
    list = JSON.parse(text ?? '')
  } catch {
    return refuse('malformed_body', 'sub_order_list is not JSON')
  }
  if (typeof list !== 'object' || list === null) return refuse('malformed_body', 'sub_order_list is not a JSON object')
  const { order_num: count, order_list: entries } = list as Record<string, unknown>
  const subOrders = subOrderList(entries, 'order_list').map(subOrderFields)
  if (count !== undefined && Number(count) !== subOrders.length) refuse('malformed_body', 'order_num does not count order_list')
  return subOrders
}

/** A sub-order's values as v2 fields are: text (JSON numbers such as `total_fee` written out); null is absent. */
function subOrderFields(entry: unknown): XmlFields {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    return refuse('malformed_body', 'an order_list entry is not an object')
  const fields: Record<string, string> = {}
  for (const [name, value] of Object.entries(entry)) {
    if (typeof value === 'string') fields[name] = value
    else if (typeof value === 'number' && Number.isFinite(value)) fields[name] = String(value)
    else if (value !== null) refuse('malformed_body', `order_list.${name} is neither text nor a number`)
  }
  return fields
}
