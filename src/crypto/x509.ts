/**
 * @module Public keys from PEM text: SPKI `PUBLIC KEY`, bare base64 SPKI, or an X.509 `CERTIFICATE`
 * (WeChat platform certificates are handed out as certificates; WebCrypto only imports SPKI), all read by the one
 * DER reader (`certificate.ts`).
 */
import { certificatesInPem, readCertificate } from './certificate'
import { readPem, toHex } from './encoding'

/** What paygate keeps of a PEM certificate, read once: its serial, when it expires, whether its key is RSA. */
export interface CertificateFacts {
  /** As WeChat writes it in `Wechatpay-Serial`: uppercase hex. */
  serial: string
  /** `notAfter`, ISO-8601. */
  expiresAt: string
  /** Whether its public key is RSA, the only kind the providers sign with. */
  rsa: boolean
}

/** Throws `RangeError` when the text is no certificate or its serial is not above zero. */
export function certificateFacts(pem: string): CertificateFacts {
  const certificate = readCertificate(readPem(pem.trim()).der)
  if (!certificate.serialIsPositive) throw new RangeError('certificate serial is not a positive number')
  return {
    serial: toHex(certificate.serialNumber).toUpperCase(),
    expiresAt: certificate.notAfter.toISOString(),
    rsa: isRsaSpki(certificate.subjectPublicKeyInfo),
  }
}

/** The certificate's serial as WeChat writes it in `Wechatpay-Serial`: uppercase hex. */
export function certificateSerial(pem: string): string {
  return certificateFacts(pem).serial
}

/**
 * Normalizes any accepted public-key text to SPKI DER. Throws `RangeError` with a short reason
 * (never the key text) when the input is not a usable RSA public key.
 */
export function spkiFromPublicKeyText(text: string): Uint8Array<ArrayBuffer> {
  const block = readPem(text.trim())
  if (block.label === 'CERTIFICATE') {
    let der: Uint8Array<ArrayBuffer>
    try {
      der = readCertificate(block.der).subjectPublicKeyInfo
    } catch {
      throw new RangeError('certificate could not be parsed')
    }
    if (!isRsaSpki(der)) throw new RangeError('is not an RSA certificate')
    return der
  }
  if (block.label !== '' && block.label !== 'PUBLIC KEY') {
    throw new RangeError(`expected a PUBLIC KEY or CERTIFICATE, got ${block.label}`)
  }
  if (!isRsaSpki(block.der)) throw new RangeError('is not an RSA public key')
  return block.der
}

/** rsaEncryption (1.2.840.113549.1.1.1) as a DER object identifier. */
const RSA_ENCRYPTION_OID = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]

/**
 * Whether SPKI DER names RSA: its algorithm identifier (the OID right after the two SEQUENCE headers) is
 * rsaEncryption. Both providers sign with RSA only; an EC key or certificate would otherwise be kept and fail every
 * verification later, as an unknown key.
 */
function isRsaSpki(der: Uint8Array): boolean {
  // SEQUENCE (long or short length), then SEQUENCE (short length): the OID starts at 4, 5 or 6.
  for (let start = 4; start <= 6; start++) {
    if (RSA_ENCRYPTION_OID.every((byte, i) => der[start + i] === byte)) return true
  }
  return false
}

const MAX_REMEMBERED_KEY_TEXTS = 256
const spkiByKeyText = new Map<string, Uint8Array<ArrayBuffer>>()
const spkisByCertificatesText = new Map<string, Uint8Array<ArrayBuffer>[]>()

/** `make(text)`, remembered in `memo` by the exact text (the oldest entry goes first once it is full). */
function remembered<T>(memo: Map<string, T>, text: string, make: (text: string) => T): T {
  let value = memo.get(text)
  if (value === undefined) {
    value = make(text)
    if (memo.size >= MAX_REMEMBERED_KEY_TEXTS) memo.delete(memo.keys().next().value!)
    memo.set(text, value)
  }
  return value
}

/**
 * `spkiFromPublicKeyText`, remembered per isolate by the exact text: a configured key (a certificate
 * above all) is parsed once, not on every callback. The bytes are shared, so callers must not modify
 * them. Failures are not remembered.
 */
export function cachedSpkiFromPublicKeyText(text: string): Uint8Array<ArrayBuffer> {
  return remembered(spkiByKeyText, text, spkiFromPublicKeyText)
}

/**
 * The RSA key of every certificate in a PEM text, in order (a provider's current and next certificate side by
 * side), remembered like `cachedSpkiFromPublicKeyText`. Throws `RangeError` when the text holds no certificate or
 * one that is unreadable or not RSA.
 */
export function cachedSpkisOfCertificates(text: string): Uint8Array<ArrayBuffer>[] {
  return remembered(spkisByCertificatesText, text, (pem) => {
    const blocks = certificatesInPem(pem)
    if (blocks.length === 0) throw new RangeError('holds no PEM certificate')
    return blocks.map((der) => {
      const spki = readCertificate(der).subjectPublicKeyInfo
      if (!isRsaSpki(spki)) throw new RangeError('is not an RSA certificate')
      return spki
    })
  })
}

/** When a PEM certificate stops being valid (its `notAfter`), as an ISO-8601 instant. */
export function certificateExpiry(pem: string): string {
  return certificateFacts(pem).expiresAt
}
