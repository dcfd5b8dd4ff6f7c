/**
 * @module WeChat Pay APIv3 signatures on what WeChat sends (notifications and API answers alike): RSA-SHA256
 * over `timestamp\nnonce\n<raw body>\n` by the platform key named in `Wechatpay-Serial` (protocols.md §3).
 * @see https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
 */
import { concatBytes, utf8 } from '../../crypto/encoding'
import { rsaVerify } from '../../crypto/primitives'
import { cachedSpkiFromPublicKeyText } from '../../crypto/x509'
import { refuse } from '../core/rejection'
import type { RawNotification } from '../core/types'
import type { WechatpayConfig } from './config'
import { ownValue } from '../../lib/own'

/** The signature scheme of responses, callbacks and (in `Authorization`) merchant requests. */
export const SIGNATURE_TYPE_RSA = 'WECHATPAY2-SHA256-RSA2048'
/** WeChat deliberately sends wrong signatures with this prefix to check that merchants verify (§3.4). */
const SIGNATURE_PROBE_PREFIX = 'WECHATPAY/SIGNTEST/'
/** contract.md: accepted when |now − timestamp| ≤ 300 s, in both directions. */
const MAX_CLOCK_SKEW_SECONDS = 300
const UNIX_SECONDS = /^\d{1,12}$/

/** What the signature covers: the `Wechatpay-*` header values and the body bytes exactly as received. */
export interface V3SignedMessage {
  timestamp: string
  nonce: string
  signature: string
  serial: string
  /** `Wechatpay-Signature-Type`; null when absent (WeChat then means RSA). */
  signatureType: string | null
  body: Uint8Array<ArrayBuffer>
}

function headerValue(headers: Headers, name: string): string | null {
  const value = headers.get(name)
  return value === null || value === '' ? null : value
}

/** Reads the signature headers and keeps the body bytes; no secrets needed. */
export function readSignedMessage(raw: RawNotification): V3SignedMessage {
  const timestamp = headerValue(raw.headers, 'Wechatpay-Timestamp')
  const nonce = headerValue(raw.headers, 'Wechatpay-Nonce')
  const signature = headerValue(raw.headers, 'Wechatpay-Signature')
  const serial = headerValue(raw.headers, 'Wechatpay-Serial')
  if (timestamp === null || nonce === null || signature === null || serial === null) {
    refuse('missing_signature', 'Wechatpay signature headers missing')
  }
  // Before anything decodes the signature: probes are not base64 and must not look like a crash.
  if (signature.startsWith(SIGNATURE_PROBE_PREFIX)) refuse('signature_probe', 'signature probe')
  if (!UNIX_SECONDS.test(timestamp)) refuse('malformed_body', 'Wechatpay-Timestamp is not an integer')
  return {
    timestamp,
    nonce,
    signature,
    serial,
    signatureType: headerValue(raw.headers, 'Wechatpay-Signature-Type'),
    body: raw.body,
  }
}

export function v3Config(wechatpay: WechatpayConfig | undefined): { wechatpay: WechatpayConfig; apiV3Key: string } {
  if (wechatpay === undefined || !wechatpay.apiV3Key) refuse('channel_not_configured', 'WeChat Pay APIv3 is not configured')
  return { wechatpay, apiV3Key: wechatpay.apiV3Key }
}

/**
 * The key text for a `Wechatpay-Serial`: a configured key, else a downloaded certificate. Own properties only: a
 * serial such as `constructor` must not reach Object.prototype.
 */
export function platformKeyText(wechatpay: WechatpayConfig, serial: string): string | undefined {
  const { platformPublicKeys, downloadedPlatformCertificates = {} } = wechatpay
  return ownValue(platformPublicKeys, serial) ?? ownValue(downloadedPlatformCertificates, serial)
}

/** When the configured certificate for `serial` expires; undefined for a plain public key or a downloaded one. */
function configuredExpiry(wechatpay: WechatpayConfig, serial: string): string | undefined {
  const expiries = wechatpay.platformKeyExpiries ?? {}
  return Object.hasOwn(wechatpay.platformPublicKeys, serial) ? ownValue(expiries, serial) : undefined
}

/**
 * Freshness, signature type, key selection by serial and the RSA check, in that order. The signed
 * bytes are the received body, never re-serialised JSON (PHP-style `\/` escapes must survive).
 */
export async function verifySignedMessage(signed: V3SignedMessage, config: WechatpayConfig | undefined, now: number): Promise<void> {
  const { wechatpay } = v3Config(config)
  // In whole seconds, as the header counts: 300 s old stays within the window for all of that second.
  if (Math.abs(Math.floor(now / 1000) - Number(signed.timestamp)) > MAX_CLOCK_SKEW_SECONDS) {
    refuse('stale_timestamp', 'Wechatpay-Timestamp is more than 300 s from now')
  }
  if (signed.signatureType !== null && signed.signatureType !== SIGNATURE_TYPE_RSA) {
    refuse('sign_type_not_allowed', 'only WECHATPAY2-SHA256-RSA2048 is accepted')
  }
  const keyText = platformKeyText(wechatpay, signed.serial)
  if (keyText === undefined) refuse('unknown_serial', 'no platform key for Wechatpay-Serial')
  // WeChat signs with a new certificate days before the old one expires (protocols.md §3.3), so a signature under an
  // expired one is never WeChat's: its key may have leaked since. Downloaded certificates are dropped when they expire.
  const expiresAt = configuredExpiry(wechatpay, signed.serial)
  if (expiresAt !== undefined && Date.parse(expiresAt) <= now) {
    refuse('certificate_expired', `platform certificate for Wechatpay-Serial expired at ${expiresAt}`)
  }
  const message = concatBytes(utf8(`${signed.timestamp}\n${signed.nonce}\n`), signed.body, utf8('\n'))
  let valid: boolean
  try {
    valid = await rsaVerify(cachedSpkiFromPublicKeyText(keyText), 'SHA-256', signed.signature, message)
  } catch {
    // Keys are validated when the merchant is saved; this is a damaged configuration, not a bad callback.
    return refuse('unknown_serial', 'platform key for Wechatpay-Serial is unusable')
  }
  if (!valid) refuse('signature_invalid', 'signature does not verify')
}
