/**
 * @module The `platformPublicKeys` field of a merchant's WeChat Pay section: the keys (or certificates)
 * WeChat Pay signs its notifications with, listed by the serial its `Wechatpay-Serial` header names.
 */
import { readPem, toPem } from '../../crypto/encoding'
import { certificateFacts } from '../../crypto/x509'
import { fail, fieldPath, objectAt, stringAt } from '../../lib/validation'
import { publicKeyPemAt } from '../core/config-fields'

// `Wechatpay-Serial` values: platform-certificate serials (hex) or WeChat Pay public-key ids.
export const HEX_SERIAL = /^[0-9A-Fa-f]{1,64}$/
const PUBLIC_KEY_ID = /^PUB_KEY_ID_[0-9A-Za-z_]{1,64}$/

/** Serial and expiry of a PEM certificate, or null when `text` is a plain public key. */
function certificateOf(text: string): { serial: string; expiresAt: string } | null {
  if (readPem(text.trim()).label !== 'CERTIFICATE') return null
  const { serial, expiresAt } = certificateFacts(text)
  return { serial, expiresAt }
}

export interface PlatformKeys {
  platformPublicKeys: Record<string, string>
  /** Only for keys given as certificates. */
  platformKeyExpiries: Record<string, string>
  /** The certificates themselves (PEM), by serial, for the expiry notices. */
  platformCertificates?: Record<string, string>
}

/**
 * Serial → SPKI PEM. A certificate must be listed under its own serial. Hex serials are stored
 * uppercase (as WeChat writes `Wechatpay-Serial`); `PUB_KEY_ID_…` ids are kept exactly as given.
 */
export async function parsePlatformPublicKeys(value: unknown): Promise<PlatformKeys> {
  const parent = 'wechatpay.platformPublicKeys'
  const listed = objectAt(value, parent, null)
  const keys = new Map<string, string>()
  const expiries: Record<string, string> = {}
  const certificates = new Map<string, string>()
  for (const [serial, text] of Object.entries(listed)) {
    const path = fieldPath(parent, serial)
    const hexSerial = HEX_SERIAL.test(serial)
    if (!hexSerial && !PUBLIC_KEY_ID.test(serial)) {
      fail(path, 'must be listed under a certificate serial (hex) or a PUB_KEY_ID_… id')
    }
    const keyText = stringAt(text, path)
    const pem = await publicKeyPemAt(keyText, path)
    const normalizedSerial = hexSerial ? serial.toUpperCase() : serial
    // Read already by publicKeyPemAt; what is left to refuse is a serial that is not above zero.
    let certificate: ReturnType<typeof certificateOf>
    try {
      certificate = certificateOf(keyText)
    } catch (error) {
      fail(path, error instanceof RangeError ? error.message : 'is not a certificate paygate can read')
    }
    if (certificate !== null && certificate.serial !== normalizedSerial) {
      fail(path, `certificate serial is ${certificate.serial}, not the serial it is listed under`)
    }
    if (keys.has(normalizedSerial)) fail(path, 'serial is listed twice')
    keys.set(normalizedSerial, pem)
    if (certificate !== null) {
      expiries[normalizedSerial] = certificate.expiresAt
      // Kept whole for the expiry notices (certificate.expiring), which read the certificate itself.
      certificates.set(normalizedSerial, toPem('CERTIFICATE', readPem(keyText.trim()).der))
    }
  }
  return {
    platformPublicKeys: Object.fromEntries(keys),
    platformKeyExpiries: expiries,
    ...(certificates.size === 0 ? {} : { platformCertificates: Object.fromEntries(certificates) }),
  }
}
