/**
 * @module WeChat Pay APIv3 notifications: signed as every v3 message is (`v3-signature.ts`), an AES-GCM
 * `resource` under the APIv3 key, and the TRANSACTION.SUCCESS (combined payments too: `v3-combined.ts`) /
 * REFUND.SUCCESS|ABNORMAL|CLOSED events (protocols.md §3, §9); any other event is `v3-other.ts`'s.
 * @see https://pay.weixin.qq.com/docs/merchant/apis/h5-payment/payment-notice.html
 * @see https://pay.weixin.qq.com/docs/partner/apis/partner-h5-payment/refund-result-notice.html
 */
import { fromBase64, utf8 } from '../../crypto/encoding'
import { utf8KeyBytes } from '../../crypto/keys'
import { aesGcmDecrypt } from '../../crypto/primitives'
import { refuse, refusingOrder, type NotifyRejection } from '../core/rejection'
import type { ChannelAdapter, NotificationEffect, RawNotification, RefundOutcome, VerifiedNotification } from '../core/types'
import type { WechatpayConfig } from './config'
import { checkV3Identity } from './identity'
import { combinedV3Notification, isCombinedTransaction } from './v3-combined'
import { redactV3 } from './redaction'
import { fen, optionalInstant, optionalText, parseJsonObject, requiredObject, requiredText, type JsonFields } from './v3-json'
import { otherV3Notification } from './v3-other'
import { readSignedMessage, v3Config, verifySignedMessage, type V3SignedMessage } from './v3-signature'
import { transactionPaymentEffect } from './v3-transaction'

const RESOURCE_ALGORITHM = 'AEAD_AES_256_GCM'
const SUPPORTED_EVENTS = ['TRANSACTION.SUCCESS', 'REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED'] as const
type SupportedEvent = (typeof SUPPORTED_EVENTS)[number]

export interface V3Resource {
  algorithm: string
  ciphertext: string
  nonce: string
  associatedData: string
  originalType: string | null
}

/** The notification envelope. Only trustworthy once `verify` has checked the signature over its bytes. */
export interface V3Envelope {
  id: string
  eventType: string
  createTime: string | null
  summary: string | null
  resource: V3Resource
}

export interface V3Wire {
  signed: V3SignedMessage
  envelope: V3Envelope
}

/**
 * The JSON envelope. Required: `id`, `event_type`, `resource.{algorithm,ciphertext,nonce}`;
 * `associated_data` may be absent or `""`, and the descriptive fields are optional.
 */
function readEnvelope(body: Uint8Array): V3Envelope {
  const fields = parseJsonObject(body, 'body')
  const resource = requiredObject(fields, 'resource')
  return {
    id: requiredText(fields, 'id'),
    eventType: requiredText(fields, 'event_type'),
    createTime: optionalText(fields, 'create_time'),
    summary: optionalText(fields, 'summary'),
    resource: {
      algorithm: requiredText(resource, 'algorithm'),
      ciphertext: requiredText(resource, 'ciphertext'),
      nonce: requiredText(resource, 'nonce'),
      associatedData: optionalText(resource, 'associated_data') ?? '',
      originalType: optionalText(resource, 'original_type'),
    },
  }
}

/** AEAD_AES_256_GCM with the APIv3 key's bytes, the nonce text as IV and `associated_data` as AAD. */
async function openResource(resource: V3Resource, apiV3Key: Uint8Array<ArrayBuffer>): Promise<JsonFields> {
  // Authentic but not something we can open (e.g. a future SM4 resource): an event we don't support.
  if (resource.algorithm !== RESOURCE_ALGORITHM) refuse('unsupported_event', 'unsupported resource algorithm')
  let plaintext: Uint8Array
  try {
    const sealed = fromBase64(resource.ciphertext)
    plaintext = await aesGcmDecrypt(apiV3Key, utf8(resource.nonce), utf8(resource.associatedData), sealed)
  } catch {
    return refuse('decrypt_failed', 'resource does not decrypt with the APIv3 key')
  }
  return parseJsonObject(plaintext, 'resource')
}

/** The event when paygate maps it to an order's effect; null for any other (`TRANSACTION.FAIL`, transfers…). */
function mappedEvent(eventType: string): SupportedEvent | null {
  return SUPPORTED_EVENTS.find((supported) => supported === eventType) ?? null
}

/**
 * A refund as v3 reports it: the REFUND.* resource and the refund-query answer are the same object
 * (`amount.refund` this refund, `amount.total` the order, both in fen). A refund larger than its order
 * is refused here, as v2 and Alipay refuse theirs.
 */
export function v3RefundEffect(outcome: RefundOutcome, resource: JsonFields): Extract<NotificationEffect, { kind: 'refund' }> {
  const amount = requiredObject(resource, 'amount')
  const refunded = fen(amount, 'refund')
  const total = fen(amount, 'total')
  if (refunded > total) refuse('malformed_body', 'amount.refund exceeds amount.total')
  const transactionId = optionalText(resource, 'transaction_id') || null
  const stated = optionalText(amount, 'currency')
  const currency = stated || 'CNY'
  return {
    kind: 'refund',
    outcome,
    outRefundNo: requiredText(resource, 'out_refund_no'),
    refundId: optionalText(resource, 'refund_id') || null,
    transactionId,
    amount: refunded,
    cumulativeRefunded: null,
    orderAmount: total,
    currency,
    refundedAt: optionalInstant(resource, 'success_time'),
    // The order's total and WeChat's transaction: the payment happened, its time is not in the resource.
    payment:
      transactionId === null || total === 0
        ? null
        : { amount: total, currency, transactionId, paidAt: null, ...(stated ? {} : { currencyUnstated: true as const }) },
  }
}

/** A refund event's effect, read as its type says only when its resource's `refund_status`, if any, says the same. */
function refundEventEffect(outcome: RefundOutcome, status: string, resource: JsonFields): NotificationEffect {
  if (resource.refund_status !== undefined && resource.refund_status !== status)
    refuse('unsupported_event', `REFUND.${status} whose refund_status says otherwise`)
  return v3RefundEffect(outcome, resource)
}

/** The one mapping of WeChat Pay v3 events to paygate effects. */
function effectOf(event: SupportedEvent, resource: JsonFields): NotificationEffect {
  switch (event) {
    case 'TRANSACTION.SUCCESS':
      if (resource.trade_state !== 'SUCCESS') refuse('unsupported_event', 'TRANSACTION.SUCCESS without trade_state SUCCESS')
      return transactionPaymentEffect(resource)
    case 'REFUND.SUCCESS':
      return refundEventEffect('succeeded', 'SUCCESS', resource)
    // Not final: WeChat wants the merchant to act in its portal; the order keeps its status.
    case 'REFUND.ABNORMAL':
      return refundEventEffect('failed', 'ABNORMAL', resource)
    case 'REFUND.CLOSED':
      return refundEventEffect('closed', 'CLOSED', resource)
    default: {
      const unreachable: never = event
      return unreachable
    }
  }
}

export const wechatpayV3: ChannelAdapter<WechatpayConfig, V3Wire, V3Envelope, 'wechatpay.v3'> = {
  channel: 'wechatpay.v3',
  provider: 'wechatpay',
  path: 'wechatpay/v3',

  parse(raw: RawNotification): V3Wire {
    const signed = readSignedMessage(raw)
    return { signed, envelope: readEnvelope(signed.body) }
  },

  async verify(wire: V3Wire, config: WechatpayConfig | undefined, now: number): Promise<V3Envelope> {
    await verifySignedMessage(wire.signed, config, now)
    return wire.envelope
  },

  async normalize(envelope: V3Envelope, config: WechatpayConfig | undefined): Promise<VerifiedNotification> {
    const { wechatpay, apiV3Key } = v3Config(config)
    const resource = await openResource(envelope.resource, utf8KeyBytes(apiV3Key))
    const event = mappedEvent(envelope.eventType)
    // Transfers, profit sharing, complaints, and the payment families' other events (TRANSACTION.FAIL…): checked
    // against the ids they carry, then forwarded as they are.
    if (event === null) return otherV3Notification(envelope, resource, wechatpay)
    // Several orders paid at once: the merchant ids and the orders are named per sub-order.
    if (event === 'TRANSACTION.SUCCESS' && isCombinedTransaction(resource)) return combinedV3Notification(envelope.id, resource, wechatpay)
    // Signed and decrypted: a refusal from here on is about the order the resource names.
    return refusingOrder(resource.out_trade_no, () => {
      checkV3Identity(resource, wechatpay)
      return {
        channel: 'wechatpay.v3',
        provider: 'wechatpay',
        notificationId: envelope.id,
        outTradeNo: requiredText(resource, 'out_trade_no'),
        effect: effectOf(event, resource),
        raw: resource,
      }
    })
  },

  accept(): Response {
    return new Response(null, { status: 204 })
  },

  reject(error: NotifyRejection): Response {
    // WeChat documents `message` as string[1,64].
    return Response.json({ code: 'FAIL', message: error.message.slice(0, 64) }, { status: error.status })
  },

  redact: redactV3,
}
