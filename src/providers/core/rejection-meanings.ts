/**
 * @module What each rejection code means to an operator, in a line: the console shows it beside the code. Kept apart
 * from rejection.ts (no imports), so the console's bundle takes the table alone; typed by its codes, so a new code
 * without a meaning does not compile. docs/operations.md ("Why a notification was refused") says each at length, with
 * its status (test/providers/rejection-meanings.test.ts keeps the two listing the same codes).
 */
import type { RejectionCode } from './rejection'

export const REJECTION_MEANINGS: Readonly<Record<RejectionCode, string>> = {
  malformed_body: 'not a notification of this channel: unreadable, or fields missing or invalid',
  xml_entities: 'the XML declares entities (an XXE attempt or a broken sender): refused unread',
  body_too_large: 'larger than any notification a provider sends',
  missing_signature: 'no signature: not from the provider',
  signature_invalid: "the signature does not verify with the merchant's keys: forged, altered, or signed with a key not configured",
  signature_probe: 'WeChat Pay checking that signatures are verified (a deliberately bad one): expected, never alerted on',
  sign_type_not_allowed: 'signed with an algorithm the merchant does not allow (v2SignType, signType)',
  stale_timestamp: 'its WeChat Pay v3 timestamp is more than 5 minutes from now: a replay, or a clock far off',
  unknown_serial: 'signed with a WeChat Pay platform key the merchant does not list: add it, or turn on autoPlatformCertificates',
  certificate_expired: "the merchant's configured platform certificate has expired: configure its successor",
  unknown_serial_after_download:
    "no key for its serial even after downloading WeChat Pay's certificates, or the download failed: WeChat retries",
  merchant_mismatch: "it names other ids (appid, mchid, sub_mchid, app_id, seller_id, auth_app_id) than the merchant's",
  unknown_merchant: 'no merchant has this id',
  channel_not_configured: 'the merchant has no configuration for this provider',
  unsupported_event:
    'authentic, but not readable as what it says it is (an SM4 resource, a status its event contradicts, a payment of 0 fen…)',
  amount_mismatch: "its amount or currency differs from the registered order's",
  order_not_registered: 'the merchant registers its orders and has not registered this one: confirmed by a query, or retried',
  refund_before_payment: 'a refund of a payment not yet seen: the provider retries, and it applies once the payment is known',
  refund_exceeds_amount: "the refund would take the refunded total above the order's amount: never applied",
  transaction_mismatch: "the refund names another transaction than the order's payment: never applied",
  decrypt_failed: "the payload does not decrypt with the merchant's APIv3 or APIv2 key: most likely a rotated key",
  storage_unavailable: 'the gateway could not store it: the provider retries',
}

/** A stored reason's meaning: a code's, or an unsigned message's (`unsigned: …`); null for one it does not know. */
export function rejectionMeaning(reason: string): string | null {
  if (reason === 'unsigned' || reason.startsWith('unsigned:'))
    return 'an unsigned message (WeChat Pay v2 return_code=FAIL): it changes nothing'
  return Object.hasOwn(REJECTION_MEANINGS, reason) ? REJECTION_MEANINGS[reason as RejectionCode] : null
}
