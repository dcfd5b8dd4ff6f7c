/**
 * @module WeChat Pay APIv3 notifications that are not about a payment or its refunds (`MCHTRANSFER.*`,
 * `PROFITSHARING.*`, `COMPLAINT.*`, …): verified and decrypted like every v3 notification, checked
 * against the merchant ids they carry (the one identity rule, partner mode included), and forwarded as
 * `provider.notification` with the resource as it is.
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012712115 (transfer bill notification)
 */
import { rfc3339ToIso } from '../core/time'
import type { VerifiedNotification } from '../core/types'
import type { WechatpayConfig } from './config'
import { checkV3Identity } from './identity'
import type { JsonFields, V3Envelope } from './v3-notify'

/** Event families paygate maps itself; any other authentic event is forwarded as it is. */
const ORDER_EVENT_PREFIXES = ['TRANSACTION.', 'REFUND.']

/**
 * Where each kind of resource names what it is about, most specific first: a transfer bill, a
 * complaint, a profit-sharing order, then the merchant's own numbers.
 */
const SUBJECT_FIELDS = ['transfer_bill_no', 'complaint_id', 'order_id', 'out_bill_no', 'out_order_no', 'transaction_id', 'out_trade_no']

export function isOtherEvent(eventType: string): boolean {
  return !ORDER_EVENT_PREFIXES.some((prefix) => eventType.startsWith(prefix))
}

/** A subject id, when the resource gives one as text. */
function subjectText(resource: JsonFields, name: string): string | null {
  const value = resource[name]
  return typeof value === 'string' && value !== '' ? value : null
}

export function otherV3Notification(envelope: V3Envelope, resource: JsonFields, wechatpay: WechatpayConfig): VerifiedNotification {
  checkV3Identity(resource, wechatpay, 'other')
  const subjectId = SUBJECT_FIELDS.map((name) => subjectText(resource, name)).find((value) => value !== null) ?? null
  const occurredAt = envelope.createTime === null ? null : rfc3339ToIso(envelope.createTime)
  return {
    channel: 'wechatpay.v3',
    provider: 'wechatpay',
    notificationId: envelope.id,
    outTradeNo: '',
    effect: { kind: 'other', notificationType: envelope.eventType, subjectId, occurredAt },
    raw: resource,
  }
}
