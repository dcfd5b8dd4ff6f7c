/**
 * @module WeChat Pay APIv2 channel: XML payment notifies signed with the APIv2 key (MD5 or HMAC-SHA256),
 * refund notifies whose `req_info` is AES-256-ECB under MD5(APIv2 key), and unsigned `return_code=FAIL` messages.
 * @see https://pay.weixin.qq.com/doc/v2/merchant/4011937248 (payment notify)
 * @see https://pay.weixin.qq.com/doc/v2/partner/4011989265 (refund notify)
 */
import { fromBase64, fromUtf8, toHex, utf8 } from '../../crypto/encoding'
import { aesEcbDecrypt } from '../../crypto/aes-ecb'
import { md5, sha256Hex } from '../../crypto/primitives'
import { NotifyRejection, refuse, refusingOrder } from '../core/rejection'
import type { ChannelAdapter, NotificationEffect, RawNotification, RefundOutcome, VerifiedNotification } from '../core/types'
import type { WechatpayConfig } from './config'
import { checkV2Identity } from './identity'
import { redactV2 } from './redaction'
import { combinedV2Notification, isCombinedPayment } from './v2-combined'
import { beijingTimeField, fenField, requiredField, v2PaymentEffect } from './v2-payment'
import { signedFields, v2SignString, verifyV2Signature } from './v2-sign'
import { buildXmlReply, presentFields, readFlatXml, type XmlFields } from './xml'

/** The three kinds of message WeChat posts to a v2 notify URL, told apart before any key is used. */
export type V2Wire =
  | { kind: 'payment'; fields: XmlFields }
  | { kind: 'refund'; fields: XmlFields }
  /** `return_code=FAIL`: carries no `sign`, so it cannot be authenticated, and it never changes anything. */
  | { kind: 'fail'; fields: XmlFields; body: string }

export type V2Verified =
  /** `signed` holds exactly the fields the signature covers: every non-empty field but `sign`. */
  | { kind: 'payment'; signed: XmlFields; signString: string }
  /** `outer` is the unauthenticated envelope's non-empty fields; `refund` the decrypted (hence authentic) `req_info`. */
  | { kind: 'refund'; outer: XmlFields; refund: XmlFields }
  /** `fields`: the message's non-empty fields. */
  | { kind: 'fail'; fields: XmlFields; body: string }

const REFUND_OUTCOMES: Readonly<Record<string, RefundOutcome>> = {
  SUCCESS: 'succeeded',
  CHANGE: 'failed',
  REFUNDCLOSE: 'closed',
}

// The refund envelope is unsigned: only the fields checked against the merchant (appid, mch_id, and in partner
// mode sub_appid, sub_mch_id) are forwarded next to the decrypted ones. `nonce_str` could be anything a sender liked.
const ENVELOPE_FIELDS = ['appid', 'mch_id', 'sub_appid', 'sub_mch_id'] as const

const ACK_FIELDS = { return_code: 'SUCCESS', return_msg: 'OK' } as const

export const wechatpayV2: ChannelAdapter<WechatpayConfig, V2Wire, V2Verified, 'wechatpay.v2'> = {
  channel: 'wechatpay.v2',
  provider: 'wechatpay',
  path: 'wechatpay/v2',

  parse(raw: RawNotification): V2Wire {
    const text = decodeUtf8(raw.body)
    const fields = readFlatXml(text, 'xml')
    switch (fields.return_code) {
      case 'FAIL':
        return { kind: 'fail', fields, body: text }
      case 'SUCCESS':
        if (fields.req_info === undefined) return { kind: 'payment', fields }
        // A refund notify is authenticated by decryption alone; a body claiming both is not one WeChat sends.
        if (fields.sign !== undefined) refuse('malformed_body', 'a v2 notify carries sign or req_info, not both')
        return { kind: 'refund', fields }
      default:
        return refuse('malformed_body', 'return_code must be SUCCESS or FAIL')
    }
  },

  async verify(wire: V2Wire, wechatpay: WechatpayConfig | undefined): Promise<V2Verified> {
    const { apiV2Key, v2SignTypes } = v2Config(wechatpay)
    switch (wire.kind) {
      case 'payment': {
        const signString = v2SignString(wire.fields)
        await verifyV2Signature(wire.fields, apiV2Key, v2SignTypes, signString)
        return { kind: 'payment', signed: signedFields(wire.fields), signString }
      }
      case 'refund':
        return { kind: 'refund', outer: presentFields(wire.fields), refund: await openReqInfo(wire.fields.req_info ?? '', apiV2Key) }
      case 'fail':
        return { ...wire, fields: presentFields(wire.fields) }
    }
  },

  async normalize(verified: V2Verified, wechatpay: WechatpayConfig | undefined): Promise<VerifiedNotification> {
    const config = v2Config(wechatpay)
    // Several orders paid at once: the merchant ids and the orders are named per sub-order.
    if (verified.kind === 'payment' && isCombinedPayment(verified.signed)) {
      return combinedV2Notification(verified.signed, await notificationIdOf(verified), config, isPaid(verified.signed))
    }
    // Envelopes are read as the sign rules read fields: an empty element is absent.
    const envelope = verified.kind === 'payment' ? verified.signed : verified.kind === 'refund' ? verified.outer : verified.fields
    // A refusal from here on names the order the signed fields (a refund: the decrypted req_info) name; an unsigned
    // FAIL names none.
    const named =
      verified.kind === 'payment' ? verified.signed.out_trade_no : verified.kind === 'refund' ? verified.refund.out_trade_no : null
    const { outTradeNo, effect } = refusingOrder(named, () => {
      checkV2Identity(envelope, config, verified.kind !== 'fail')
      return mapStatus(verified, config)
    })
    return {
      channel: 'wechatpay.v2',
      provider: 'wechatpay',
      notificationId: await notificationIdOf(verified),
      outTradeNo,
      effect,
      raw: rawFields(verified),
    }
  },

  accept(): Response {
    return xmlResponse(200, ACK_FIELDS)
  },

  reject(error: NotifyRejection): Response {
    return xmlResponse(error.status, { return_code: 'FAIL', return_msg: error.message })
  },

  redact: redactV2,
}

function decodeUtf8(body: Uint8Array): string {
  try {
    return fromUtf8(body)
  } catch {
    return refuse('malformed_body', 'body is not valid UTF-8')
  }
}

function v2Config(config: WechatpayConfig | undefined): WechatpayConfig & { apiV2Key: string } {
  if (config?.apiV2Key === undefined || config.apiV2Key === '') {
    return refuse('channel_not_configured', 'WeChat Pay APIv2 is not configured for this merchant')
  }
  return { ...config, apiV2Key: config.apiV2Key }
}

/**
 * `req_info` = base64(AES-256-ECB(PKCS#7, `<root>` XML)) with the 32 ASCII bytes of the lowercase hex
 * MD5 of the APIv2 key as the AES key. ECB carries no MAC: a wrong key shows as bad padding or garbage.
 */
async function openReqInfo(reqInfo: string, apiV2Key: string): Promise<XmlFields> {
  let sealed: Uint8Array<ArrayBuffer>
  try {
    sealed = fromBase64(reqInfo)
  } catch {
    return refuse('malformed_body', 'req_info is not base64')
  }
  if (sealed.byteLength === 0 || sealed.byteLength % 16 !== 0) refuse('malformed_body', 'req_info is not AES ciphertext')
  const aesKey = utf8(toHex(await md5(utf8(apiV2Key))))
  let plaintext: string
  try {
    plaintext = fromUtf8(aesEcbDecrypt(aesKey, sealed))
  } catch {
    return refuse('decrypt_failed', 'req_info does not decrypt with the merchant APIv2 key')
  }
  try {
    return readFlatXml(plaintext, 'root')
  } catch (error) {
    // Without a MAC, a wrong key can still unpad by chance; what comes out is then not our XML.
    if (error instanceof NotifyRejection && error.code === 'malformed_body') {
      return refuse('decrypt_failed', 'req_info does not decrypt to a <root> document')
    }
    throw error
  }
}

/** The one mapping of WeChat v2 statuses to paygate's effects. */
function mapStatus(verified: V2Verified, config: WechatpayConfig): { outTradeNo: string; effect: NotificationEffect } {
  switch (verified.kind) {
    case 'fail':
      // Unsigned, so whatever order it names is unproven: it is audited for the merchant, never sent to an order.
      return { outTradeNo: '', effect: { kind: 'none', reason: 'return_code=FAIL' } }
    case 'payment': {
      const fields = verified.signed
      // Signed, but about no order: v2 names no notification type or id to forward it by (an auto-debit contract's).
      if (fields.out_trade_no === undefined && fields.transaction_id === undefined)
        refuse('unsupported_event', 'a signed v2 notify that is neither a payment nor a refund (no out_trade_no, no transaction_id)')
      if (isPaid(fields)) return { outTradeNo: requiredField(fields, 'out_trade_no'), effect: v2PaymentEffect(fields) }
      return { outTradeNo: fields.out_trade_no ?? '', effect: { kind: 'none', reason: 'result_code=FAIL' } }
    }
    case 'refund': {
      const fields = verified.refund
      const outcome = REFUND_OUTCOMES[fields.refund_status ?? '']
      if (outcome === undefined) refuse('unsupported_event', 'refund_status is not SUCCESS, CHANGE or REFUNDCLOSE')
      const amount = fenField(fields, 'refund_fee')
      const orderAmount = fenField(fields, 'total_fee')
      if (amount > orderAmount) refuse('malformed_body', 'refund_fee exceeds total_fee')
      const transactionId = fields.transaction_id || null
      const subMerchant = config.subMchid !== undefined
      return {
        outTradeNo: requiredField(fields, 'out_trade_no'),
        effect: {
          kind: 'refund',
          outcome,
          outRefundNo: requiredField(fields, 'out_refund_no'),
          refundId: fields.refund_id || null,
          transactionId,
          amount,
          cumulativeRefunded: null,
          orderAmount,
          currency: 'CNY',
          refundedAt: beijingTimeField(fields, 'success_time'),
          // total_fee and the transaction prove the payment (its time is not in req_info), but not for a sub-merchant:
          // sub-merchants share the service provider's key, and req_info names none of them, so which sub-merchant
          // it is for rests on the unsigned envelope. Its payment comes from its signed pay notify or a query.
          payment:
            transactionId === null || orderAmount === 0 || subMerchant
              ? null
              : { amount: orderAmount, currency: 'CNY', currencyUnstated: true, transactionId, paidAt: null },
          // A direct merchant's key is its sub-merchants' too when the gateway also has sub-merchants of its mchid:
          // their refund with `sub_mch_id` cut from the envelope would read as its own.
          ...(subMerchant ? { recipientUnsigned: true as const } : { keySharedUnder: [config.mchid] }),
        },
      }
    }
  }
}

/** A signed pay notify's `result_code`: SUCCESS pays; FAIL, a business failure, changes nothing. */
function isPaid(fields: XmlFields): boolean {
  switch (fields.result_code) {
    case 'SUCCESS':
      return true
    case 'FAIL':
      return false
    default:
      return refuse('unsupported_event', 'result_code must be SUCCESS or FAIL')
  }
}

/** The dedupe key: a digest of exactly the authenticated content. */
async function notificationIdOf(verified: V2Verified): Promise<string> {
  return `v2:${await sha256Hex(canonicalText(verified))}`
}

/** What the dedupe key digests: exactly the authenticated content (the FAIL body has nothing better). */
function canonicalText(verified: V2Verified): string {
  switch (verified.kind) {
    case 'payment':
      return verified.signString
    case 'refund':
      return v2SignString(verified.refund)
    case 'fail':
      return verified.body
  }
}

/** Forwarded as `data.raw`: verified fields only; never `sign`, the `req_info` ciphertext or any key. */
function rawFields(verified: V2Verified): Record<string, string> {
  switch (verified.kind) {
    case 'payment':
      return { ...verified.signed }
    case 'refund': {
      const envelope = ENVELOPE_FIELDS.flatMap((name) => {
        const value = verified.outer[name]
        return value === undefined ? [] : [[name, value] as const]
      })
      return { ...Object.fromEntries(envelope), ...verified.refund }
    }
    case 'fail':
      return Object.fromEntries(Object.entries(verified.fields).filter(([name]) => name !== 'sign'))
  }
}

function xmlResponse(status: number, fields: Readonly<Record<string, string>>): Response {
  return new Response(buildXmlReply(fields), { status, headers: { 'content-type': 'text/xml' } })
}
