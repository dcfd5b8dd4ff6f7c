/**
 * @module Alipay notifications that are not `trade_status_sync` (service-market orders, fund and
 * message-service notifications, …): verified like every Alipay notify, checked against the ids they
 * carry, and forwarded as `provider.notification` with their fields as they are.
 * @see https://opendocs.alipay.com/common/02km9f (asynchronous notifications)
 */
import { checkSellerAndAuthApp } from './identity'
import { refuse } from '../core/rejection'
import { beijingTimeToIso } from '../core/time'
import type { VerifiedNotification } from '../core/types'
import type { AlipayConfig } from './config'

/**
 * Where a message names what it is about, most specific first (message-service ones inside `biz_content`); then an
 * auto-debit agreement's (`dut_user_sign` / `dut_user_unsign`) and a fund authorization's numbers, last so that no
 * message named by an earlier field changes its subject.
 */
const SUBJECT_FIELDS = [
  'commodity_order_id',
  'order_id',
  'trade_no',
  'out_biz_no',
  'out_trade_no',
  'agreement_no',
  'external_agreement_no',
  'auth_no',
  'out_order_no',
]

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value
}

/** `biz_content` of a message-service notification, when it is a JSON object; its strings only. */
function bizContent(fields: ReadonlyMap<string, string>): Map<string, string> {
  const text = fields.get('biz_content')
  if (text === undefined) return new Map()
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return new Map()
    return new Map(Object.entries(value).flatMap(([name, v]) => (typeof v === 'string' ? [[name, v] as const] : [])))
  } catch {
    return new Map()
  }
}

/** `fields` are decoded and verified; `app_id`, when carried, was checked already. */
export function otherAlipayNotification(fields: ReadonlyMap<string, string>, config: AlipayConfig): VerifiedNotification {
  // The seller and the authorizing app only when the message names them: many of these name neither.
  checkSellerAndAuthApp(fields, config, { carriedOnly: true })
  const notificationType =
    nonEmpty(fields.get('notify_type')) ?? nonEmpty(fields.get('msg_method')) ?? refuse('malformed_body', 'alipay notify_type is missing')
  const notificationId = nonEmpty(fields.get('notify_id')) ?? refuse('malformed_body', 'alipay notify_id is missing')
  const inner = bizContent(fields)
  const subjectId =
    SUBJECT_FIELDS.map((name) => nonEmpty(fields.get(name)) ?? nonEmpty(inner.get(name))).find((value) => value !== null) ?? null
  const notifyTime = nonEmpty(fields.get('notify_time'))
  const raw: Record<string, string> = {}
  for (const [key, value] of fields) if (key !== 'sign') raw[key] = value
  return {
    channel: 'alipay',
    provider: 'alipay',
    notificationId,
    outTradeNo: '',
    effect: {
      kind: 'other',
      notificationType,
      subjectId,
      occurredAt: notifyTime === null ? null : beijingTimeToIso(notifyTime),
    },
    raw,
  }
}
