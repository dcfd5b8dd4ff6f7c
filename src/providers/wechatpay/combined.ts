/**
 * @module WeChat Pay combined payments (合单支付), APIv2 and APIv3 alike: one signed callback reports the payments of
 * several orders (sub-orders). It becomes one notification per sub-order, each what an ordinary payment notification
 * of that order would be, so each order object stores its own payment once.
 * @see https://pay.weixin.qq.com/docs/partner/apis/combine-payment/orders/payment-notice.html
 */
import { refuse } from '../core/rejection'
import type { ChannelName, NotificationEffect, VerifiedNotification } from '../core/types'

/** WeChat's limit of sub-orders in one combined payment: more is no callback of WeChat's. */
const MAX_SUB_ORDERS = 50

/** A sub-order as read from the callback, once the merchant's ids were checked. */
export interface SubOrderReport {
  outTradeNo: string
  effect: NotificationEffect
  /** The sub-order's own fields; in `raw` they come after the combine's. */
  fields: Record<string, unknown>
}

/** The sub-order list of a combined payment, refused when it is not a list of at most `MAX_SUB_ORDERS` entries. */
export function subOrderList(value: unknown, name: string): readonly unknown[] {
  if (!Array.isArray(value)) return refuse('malformed_body', `${name} is not a list`)
  if (value.length > MAX_SUB_ORDERS) refuse('malformed_body', `${name} has more than ${MAX_SUB_ORDERS} sub-orders`)
  return value
}

/**
 * The callback as one notification whose effect lists its sub-orders. A sub-order's dedupe id is the callback's id
 * and its `out_trade_no`: WeChat's retry of the callback is then a duplicate in every order that stored it already.
 * Each sub-order names its combine (`combineOutTradeNo`, `combine_out_trade_no`): WeChat answers no ordinary order
 * query about it, so its order is asked about through the combine, or not at all.
 */
export function combinedNotification(
  channel: ChannelName,
  notificationId: string,
  combine: Record<string, unknown>,
  subOrders: readonly SubOrderReport[],
  combineOutTradeNo: string,
): VerifiedNotification {
  const combinedPayment = { channel, combineOutTradeNo }
  const notifications = subOrders.map(
    ({ outTradeNo, effect, fields }): VerifiedNotification => ({
      channel,
      provider: 'wechatpay',
      notificationId: `${notificationId}:${outTradeNo}`,
      outTradeNo,
      effect,
      raw: { ...combine, ...fields },
      combinedPayment,
    }),
  )
  return {
    channel,
    provider: 'wechatpay',
    notificationId,
    outTradeNo: '',
    effect: { kind: 'combined', subOrders: notifications },
    raw: combine,
  }
}
