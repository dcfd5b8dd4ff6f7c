/**
 * @module WeChat Pay APIv3 notifications paygate does not map to an order: `MCHTRANSFER.*`, `PROFITSHARING.*`,
 * `COMPLAINT.*`, and the payment families' other events (`TRANSACTION.FAIL`, `TRANSACTION.PAY_BACK`…). Verified and
 * decrypted like every v3 notification, checked against the merchant ids they carry (the one identity rule, partner
 * mode included), and forwarded as `provider.notification` with the resource as it is.
 * @see https://pay.weixin.qq.com/doc/v3/merchant/4012712115 (transfer bill notification)
 */
import { rfc3339ToIso } from '../core/time'
import type { VerifiedNotification } from '../core/types'
import type { WechatpayConfig } from './config'
import { checkV3Identity } from './identity'
import type { JsonFields } from './v3-json'
import type { V3Envelope } from './v3-notify'

/**
 * Where each kind of resource names what it is about, most specific first: a transfer bill, a
 * complaint, a profit-sharing order, then the merchant's own numbers (a combined payment's last);
 * then a batch transfer's (`MCHTRANSFER.BATCH.*`), last so that no resource named by an earlier
 * field changes its subject.
 */
const SUBJECT_FIELDS = [
  'transfer_bill_no',
  'complaint_id',
  'order_id',
  'out_bill_no',
  'out_order_no',
  'transaction_id',
  'out_trade_no',
  'combine_out_trade_no',
  'batch_id',
  'out_batch_no',
]

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
