/**
 * @module Why a provider callback was not accepted, and the HTTP status each reason maps to.
 * Adapters format the body per channel (`ChannelAdapter.reject`); the status comes from here only.
 * Provider code throws with `refuse(code, message)`; the notify route turns it into the reply.
 * Messages are short and never contain secrets, signatures or key material.
 */
import { orderNumberProblem } from './order-number'

export const REJECTION_STATUS = {
  malformed_body: 400,
  xml_entities: 400,
  body_too_large: 413,
  missing_signature: 401,
  signature_invalid: 401,
  signature_probe: 401,
  sign_type_not_allowed: 401,
  stale_timestamp: 401,
  unknown_serial: 401,
  // A configured platform certificate past its expiry: WeChat has signed with its successor for days by then.
  certificate_expired: 401,
  // Still no key for the serial after downloading the provider's keys afresh (or the download failed): 5xx keeps
  // the provider retrying while its new key becomes available.
  unknown_serial_after_download: 503,
  merchant_mismatch: 403,
  unknown_merchant: 404,
  channel_not_configured: 404,
  unsupported_event: 400,
  amount_mismatch: 409,
  // The merchant registers its orders and never registered this one: confirmed by query first.
  order_not_registered: 409,
  // A refund of a payment this order has not seen yet: the payment's notification (or a query) first.
  refund_before_payment: 409,
  // A refund that would take the order's refunded total above its amount: never applied, on any channel.
  refund_exceeds_amount: 409,
  // A refund naming another transaction than the payment its order recorded: never applied. Partner-mode v2 refund
  // notifications name their sub-merchant only in the unsigned envelope, so one sub-merchant's could be replayed to another.
  transaction_mismatch: 403,
  // The key configured for decryption does not open the payload: most likely a rotated APIv3/APIv2
  // key. 5xx keeps the provider retrying while the merchant fixes it.
  decrypt_failed: 500,
  // We could not store the notification durably: the provider must retry.
  storage_unavailable: 503,
} as const

export type RejectionCode = keyof typeof REJECTION_STATUS

export class NotifyRejection extends Error {
  override readonly name = 'NotifyRejection'
  constructor(
    readonly code: RejectionCode,
    message: string,
    /**
     * The order an authentic notification names, when it was refused after its signature (or decryption) proved it
     * the provider's: the audit trail then lists the refusal under that order (`refusingOrder`). Null for anything
     * refused before that, whose order number would be anyone's.
     */
    readonly outTradeNo: string | null = null,
  ) {
    super(message)
  }

  get status(): number {
    return REJECTION_STATUS[this.code]
  }
}

export function refuse(code: RejectionCode, message: string): never {
  throw new NotifyRejection(code, message)
}

/**
 * Runs `check`, a step over a notification already verified, which names the order `outTradeNo`: a refusal it
 * throws names that order too (when it is one the gateway could take: `orderNumberProblem`). Call it only past
 * `verify`; the pipeline drops the order of any refusal thrown before (`verifyNotification`).
 */
export function refusingOrder<T>(outTradeNo: unknown, check: () => T): T {
  try {
    return check()
  } catch (error) {
    if (!(error instanceof NotifyRejection) || error.outTradeNo !== null) throw error
    if (typeof outTradeNo !== 'string' || orderNumberProblem(outTradeNo) !== null) throw error
    throw new NotifyRejection(error.code, error.message, outTradeNo)
  }
}

/** `rejection` as a refusal that names no order: what a refusal before verification is, whatever it says. */
export function withoutOrder(rejection: NotifyRejection): NotifyRejection {
  return rejection.outTradeNo === null ? rejection : new NotifyRejection(rejection.code, rejection.message)
}
