/** @module Byte encodings: UTF-8, base64, hex, PEM armour. Pure functions, no crypto. */

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return utf8Encoder.encode(text) as Uint8Array<ArrayBuffer>
}

/** Strict UTF-8 decoding: invalid byte sequences throw instead of becoming U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes)
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

export function isBase64(text: string): boolean {
  return BASE64.test(text)
}

// workerd's V8 decodes base64 natively; Node 22 (where merchants may run verifyWebhook) has only atob.
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array<ArrayBuffer> }).fromBase64

/** Decodes canonical base64 (padding required); throws `RangeError` on anything else. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  if (!BASE64.test(text)) throw new RangeError('not canonical base64')
  // Already checked to be padded base64 without whitespace: both decoders give the same bytes.
  if (nativeFromBase64 !== undefined) return nativeFromBase64.call(Uint8Array, text)
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

export function toBase64(bytes: Uint8Array | ArrayBuffer): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let binary = ''
  for (let i = 0; i < view.length; i += 0x8000) {
    binary += String.fromCharCode(...view.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

/** Base64url without padding (RFC 4648 §5): text a URL carries as it is. */
export function toBase64Url(bytes: Uint8Array | ArrayBuffer): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Decodes unpadded base64url; throws `RangeError` on anything else. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new RangeError('not base64url')
  return fromBase64(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4))
}

const HEX_DIGITS = '0123456789abcdef'

export function toHex(bytes: Uint8Array | ArrayBuffer): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  let out = ''
  for (const byte of view) out += HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 15]!
  return out
}

/** Lower- or upper-case hex, two digits a byte; throws `RangeError` on anything else. */
export function fromHex(text: string): Uint8Array<ArrayBuffer> {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new RangeError('not hex')
  return Uint8Array.from({ length: text.length / 2 }, (_, i) => Number.parseInt(text.slice(2 * i, 2 * i + 2), 16))
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

export type PemLabel = 'PUBLIC KEY' | 'CERTIFICATE' | 'PRIVATE KEY' | 'RSA PRIVATE KEY' | 'RSA PUBLIC KEY'

export interface PemBlock {
  label: string
  der: Uint8Array<ArrayBuffer>
}

/**
 * Reads the first PEM block, or bare base64 DER (Alipay hands out its public key without armour).
 * Throws `RangeError` when the text is neither.
 */
export function readPem(text: string): PemBlock {
  const armoured = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text)
  if (armoured) return { label: armoured[1]!, der: fromBase64(armoured[2]!.replace(/\s+/g, '')) }
  const bare = text.replace(/\s+/g, '')
  if (bare.length === 0 || !isBase64(bare)) throw new RangeError('neither PEM nor base64 DER')
  return { label: '', der: fromBase64(bare) }
}

export function toPem(label: PemLabel, der: Uint8Array): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}
