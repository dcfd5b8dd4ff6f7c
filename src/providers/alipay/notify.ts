/**
 * @module Alipay asynchronous notify (OpenAPI 2.0 `trade_status_sync`): form bytes in, RSA2/RSA
 * verification over the bytes in the notify's own charset, only then decoding and status mapping.
 * @see https://opendocs.alipay.com/open/203/105286
 */
import type { RsaHash } from '../../crypto/keys'
import { rsaVerify, type Bytes } from '../../crypto/primitives'
import { parseFormBytes } from '../core/form'
import { majorToMinor } from '../core/money'
import { refuse, refusingOrder, type NotifyRejection } from '../core/rejection'
import { beijingTimeToIso } from '../core/time'
import type { ChannelAdapter, NotificationEffect, VerifiedNotification } from '../core/types'
import type { AlipayConfig, AlipaySignType } from './config'
import { checkAppId, checkSellerAndAuthApp } from './identity'
import { otherAlipayNotification } from './other-notify'
import { redactAlipay } from './redaction'
import { alipaySignContent, DECODER_LABELS, isBlank, type AlipayCharset, type AlipaySignContentVersion } from './sign-content'
import { alipayVerificationKeys, verifiesUnderAny } from './verification-keys'

export const HASH_BY_SIGN_TYPE: Readonly<Record<AlipaySignType, RsaHash>> = { RSA2: 'SHA-256', RSA: 'SHA-1' }

const TRADE_NOTIFY = 'trade_status_sync'

export interface AlipayWire {
  /** Form fields percent-decoded once to bytes, in body order. Not text yet: the charset decides. */
  fields: ReadonlyMap<string, Bytes>
  charset: AlipayCharset
}

export interface AlipayVerified {
  wire: AlipayWire
  signContent: AlipaySignContentVersion
}

const TRADE_STATUSES = ['WAIT_BUYER_PAY', 'TRADE_SUCCESS', 'TRADE_FINISHED', 'TRADE_CLOSED'] as const
type TradeStatus = (typeof TRADE_STATUSES)[number]

type FormFields = ReadonlyMap<string, string>

export const alipayNotify: ChannelAdapter<AlipayConfig, AlipayWire, AlipayVerified, 'alipay'> = {
  channel: 'alipay',
  provider: 'alipay',
  path: 'alipay',

  parse(raw) {
    const fields = parseFormBytes(raw.body)
    if (fields.size === 0) refuse('malformed_body', 'empty alipay notify')
    return { fields, charset: charsetOf(fields.get('charset')) }
  },

  async verify(wire, section) {
    const config = alipayConfig(section)
    const signBytes = wire.fields.get('sign')
    if (signBytes === undefined || signBytes.length === 0) refuse('missing_signature', 'alipay notify has no sign')
    // Only the merchant's configured algorithm: an RSA2 merchant never falls back to SHA-1.
    if (asciiText(wire.fields.get('sign_type')) !== config.signType) {
      refuse('sign_type_not_allowed', `alipay sign_type must be ${config.signType}`)
    }
    const sign = asciiText(signBytes)
    if (sign === null) refuse('signature_invalid', 'alipay sign is not base64')

    // Every configured key: while Alipay's key or certificate changes, either may have signed.
    const keys = alipayVerificationKeys(config)
    const hash = HASH_BY_SIGN_TYPE[config.signType]
    const verifies = (version: AlipaySignContentVersion): Promise<boolean> => {
      const content = alipaySignContent(wire.fields, version, wire.charset)
      return verifiesUnderAny(keys, (spki) => rsaVerify(spki, hash, sign, content))
    }
    if (await verifies('v1')) return { wire, signContent: 'v1' }
    // Trade notifies are signed without sign_type; trying V2 for them would only widen what verifies.
    if (asciiText(wire.fields.get('notify_type')) !== TRADE_NOTIFY && (await verifies('v2'))) {
      return { wire, signContent: 'v2' }
    }
    return refuse('signature_invalid', 'alipay signature does not verify')
  },

  async normalize({ wire }, section): Promise<VerifiedNotification> {
    const config = alipayConfig(section)
    const fields = decodeFields(wire)
    // Other message kinds (service market orders, fund changes…) are forwarded as they are, checked against the ids
    // they carry; a trade's must name the merchant's app and seller.
    if (fields.get('notify_type') !== TRADE_NOTIFY) {
      checkAppId(fields, config, { carriedOnly: true })
      return otherAlipayNotification(fields, config)
    }
    // Signed: a refusal of a trade's notify from here on is about the order it names.
    return refusingOrder(fields.get('out_trade_no'), () => {
      checkAppId(fields, config)
      checkSellerAndAuthApp(fields, config)
      const notificationId = required(fields, 'notify_id')
      const outTradeNo = required(fields, 'out_trade_no')
      const effect = tradeEffect(fields)
      const raw: Record<string, string> = {}
      for (const [key, value] of fields) if (key !== 'sign') raw[key] = value
      return { channel: 'alipay' as const, provider: 'alipay', notificationId, outTradeNo, effect, raw }
    })
  },

  accept() {
    return new Response('success', { status: 200, headers: { 'content-type': 'text/plain' } })
  },

  reject(error: NotifyRejection) {
    return new Response('failure', { status: error.status, headers: { 'content-type': 'text/plain' } })
  },

  redact: redactAlipay,
}

/**
 * The one mapping of Alipay trade statuses to paygate's effects (protocols.md §4.6, §4.9). A refund
 * keeps the trade TRADE_SUCCESS (partial) or closes it (full); only `refund_fee` tells them apart
 * from a payment or an unpaid close, and only above zero: payments and timeout closes may carry `0.00`.
 */
function tradeEffect(fields: FormFields): NotificationEffect {
  const status = tradeStatusOf(fields)
  const refunded = optional(fields, 'refund_fee') !== null && amountOf(fields, 'refund_fee') > 0
  switch (status) {
    case 'WAIT_BUYER_PAY':
      return { kind: 'none', reason: 'trade created, buyer has not paid' }
    case 'TRADE_SUCCESS':
      return refunded ? refundEffect(fields) : alipayPaymentEffect(fields, 'gmt_payment')
    case 'TRADE_FINISHED':
      // Sent after TRADE_SUCCESS once the trade can no longer be refunded: the same payment again.
      return alipayPaymentEffect(fields, 'gmt_payment')
    case 'TRADE_CLOSED':
      return refunded ? refundEffect(fields) : alipayCloseEffect(fields)
    default: {
      const unreachable: never = status
      return unreachable
    }
  }
}

/**
 * A payment as Alipay reports it: the notify and the `alipay.trade.query` answer share `trade_no` and
 * `total_amount` (yuan, or the major unit of a cross-border trade's `trans_currency`); the payment time is the
 * notify's `gmt_payment`, the query's `send_pay_date`.
 */
export function alipayPaymentEffect(
  fields: FormFields,
  paidAtField: 'gmt_payment' | 'send_pay_date',
): Extract<NotificationEffect, { kind: 'payment' }> {
  return {
    kind: 'payment',
    amount: amountOf(fields, 'total_amount'),
    currency: currencyOf(fields),
    transactionId: required(fields, 'trade_no'),
    paidAt: timeOf(fields, paidAtField),
  }
}

function refundEffect(fields: FormFields): NotificationEffect {
  const transactionId = required(fields, 'trade_no')
  const orderAmount = amountOf(fields, 'total_amount')
  // Alipay reports the running total refunded on the trade, not this refund's amount.
  const cumulativeRefunded = amountOf(fields, 'refund_fee')
  if (cumulativeRefunded > orderAmount) refuse('malformed_body', 'refund_fee exceeds total_amount')
  const paidAt = timeOf(fields, 'gmt_payment')
  const currency = currencyOf(fields)
  return {
    kind: 'refund',
    outcome: 'succeeded',
    // out_biz_no is the refund's out_request_no; a refund requested without one is named by the order's
    // out_trade_no (alipay.trade.fastpay.refund.query, `out_request_no`).
    outRefundNo: optional(fields, 'out_biz_no') ?? required(fields, 'out_trade_no'),
    refundId: null,
    transactionId,
    amount: null,
    cumulativeRefunded,
    orderAmount,
    currency,
    refundedAt: timeOf(fields, 'gmt_refund'),
    // total_amount with gmt_payment: the trade was paid, when and how much.
    payment: paidAt === null || orderAmount === 0 ? null : { amount: orderAmount, currency, transactionId, paidAt },
  }
}

/** An unpaid trade closed; the query answer has no `gmt_close`, so its time is unknown (null). */
export function alipayCloseEffect(fields: FormFields): Extract<NotificationEffect, { kind: 'close' }> {
  const amount = optional(fields, 'total_amount') === null ? null : amountOf(fields, 'total_amount')
  const closed = { kind: 'close' as const, transactionId: optional(fields, 'trade_no'), closedAt: timeOf(fields, 'gmt_close'), amount }
  return amount === null ? closed : { ...closed, currency: currencyOf(fields) }
}

function tradeStatusOf(fields: FormFields): TradeStatus {
  const status = fields.get('trade_status')
  const known = TRADE_STATUSES.find((s) => s === status)
  return known ?? refuse('unsupported_event', 'unknown alipay trade_status')
}

function alipayConfig(section: AlipayConfig | undefined): AlipayConfig {
  return section ?? refuse('channel_not_configured', 'merchant has no alipay configuration')
}

function charsetOf(bytes: Bytes | undefined): AlipayCharset {
  // Absent means UTF-8; the signed `charset` field wins over any HTTP header.
  if (bytes === undefined || bytes.length === 0) return 'utf-8'
  const label = asciiText(bytes)?.toLowerCase()
  if (label !== undefined && Object.hasOwn(DECODER_LABELS, label)) return label as AlipayCharset
  return refuse('malformed_body', 'unsupported alipay charset')
}

/**
 * The verified fields as text. A value of only whitespace is left out, as if not sent: the signature does not cover
 * it, so it may not stand for anything (an `out_biz_no` of spaces must not name a refund) nor reach the merchant as
 * verified. An empty value stays, as Alipay sent it, and reads as absent (`optional`).
 */
function decodeFields(wire: AlipayWire): Map<string, string> {
  // ignoreBOM keeps every byte: a leading EF BB BF in a value is content, not a marker.
  const decoder = new TextDecoder(DECODER_LABELS[wire.charset], { fatal: true, ignoreBOM: true })
  const fields = new Map<string, string>()
  for (const [name, bytes] of wire.fields) {
    if (bytes.length > 0 && isBlank(bytes, wire.charset)) continue
    try {
      fields.set(name, decoder.decode(bytes))
    } catch {
      refuse('malformed_body', `alipay field ${name} is not valid ${wire.charset}`)
    }
  }
  return fields
}

/** Text of a field that must be ASCII (sign, sign_type, charset), or null when it is not. */
function asciiText(bytes: Uint8Array | undefined): string | null {
  if (bytes === undefined) return null
  let text = ''
  for (const byte of bytes) {
    if (byte > 0x7f) return null
    text += String.fromCharCode(byte)
  }
  return text
}

function optional(fields: FormFields, name: string): string | null {
  const value = fields.get(name)
  return value === undefined || value === '' ? null : value
}

function required(fields: FormFields, name: string): string {
  return optional(fields, name) ?? refuse('malformed_body', `alipay ${name} is missing`)
}

/**
 * An amount in the trade's currency (`currencyOf`, or the one given: a refund query's answer names none), as integer
 * minor units: "1000.00" JPY is 1000, "10.00" USD 1000.
 */
export function amountOf(fields: FormFields, name: string, currency = currencyOf(fields)): number {
  return majorToMinor(required(fields, name), currency) ?? refuse('malformed_body', `alipay ${name} is not an amount in ${currency}`)
}

/**
 * The currency of a trade's amounts: a cross-border (境外) trade is priced in `trans_currency` (`total_amount` and
 * `refund_fee` are in it; the buyer pays `pay_amount` in `pay_currency`); a domestic trade names none and is CNY.
 */
function currencyOf(fields: FormFields): string {
  const currency = optional(fields, 'trans_currency') ?? 'CNY'
  // It names the currency of every amount forwarded: a code as merchants register orders in, or nothing is taken.
  return /^[A-Z]{3}$/.test(currency) ? currency : refuse('malformed_body', 'alipay trans_currency is not an ISO 4217 code')
}

function timeOf(fields: FormFields, name: string): string | null {
  const text = optional(fields, name)
  if (text === null) return null
  return beijingTimeToIso(text) ?? refuse('malformed_body', `alipay ${name} is not a Beijing time`)
}
