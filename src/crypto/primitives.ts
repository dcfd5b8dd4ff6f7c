/**
 * @module The cryptographic operations paygate performs, each in one place: RSA verify/sign,
 * HMAC-SHA256, MD5/SHA-256 digests, AES-256-GCM, AES-256-ECB (WeChat v2 refunds) and
 * constant-time comparison. Providers and delivery build byte strings; this module does the crypto.
 */
import { createDecipheriv, timingSafeEqual as nodeTimingSafeEqual } from 'node:crypto'
import { fromBase64, toHex, utf8 } from './encoding'
import { aesGcmKey, hmacSha256Key, rsaPrivateKey, rsaPublicKey, type RsaHash } from './keys'

export type Bytes = Uint8Array<ArrayBuffer>

/** RSASSA-PKCS1-v1_5 verification. A signature that is not even base64 is simply invalid. */
export async function rsaVerify(spki: Bytes, hash: RsaHash, signatureBase64: string, data: Bytes): Promise<boolean> {
  let signature: Bytes
  try {
    signature = fromBase64(signatureBase64)
  } catch {
    return false
  }
  const key = await rsaPublicKey(spki, hash)
  return crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, signature, data)
}

export async function rsaSign(pkcs8: Bytes, hash: RsaHash, data: Bytes): Promise<Bytes> {
  const key = await rsaPrivateKey(pkcs8, hash)
  return new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, data))
}

export async function hmacSha256(secret: Bytes, data: Bytes): Promise<Bytes> {
  const key = await hmacSha256Key(secret)
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, data))
}

/** workerd implements MD5 as a non-standard WebCrypto digest. */
export async function md5(data: Bytes): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest('MD5', data))
}

export async function sha256(data: Bytes): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data))
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(await sha256(utf8(text)))
}

/** Constant-time equality; unequal lengths are unequal without comparing contents. */
export function timingSafeEqual(a: Bytes, b: Bytes): boolean {
  if (a.byteLength !== b.byteLength) return false
  // `subtle.timingSafeEqual` is a workerd extension; merchants run `verifyWebhook` in Node, Deno or Bun too.
  if (typeof crypto.subtle.timingSafeEqual === 'function') return crypto.subtle.timingSafeEqual(a, b)
  return nodeTimingSafeEqual(a, b)
}

export function timingSafeEqualText(a: string, b: string): boolean {
  return timingSafeEqual(utf8(a), utf8(b))
}

/** AES-GCM open; `sealed` is ciphertext with the 16-byte tag appended. Throws on a bad tag. */
export async function aesGcmDecrypt(key: Bytes, iv: Bytes, additionalData: Bytes, sealed: Bytes): Promise<Bytes> {
  const cryptoKey = await aesGcmKey(key)
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData, tagLength: 128 }, cryptoKey, sealed))
}

export async function aesGcmEncrypt(key: Bytes, iv: Bytes, additionalData: Bytes, plain: Bytes): Promise<Bytes> {
  const cryptoKey = await aesGcmKey(key)
  return new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData, tagLength: 128 }, cryptoKey, plain))
}

/**
 * AES-256-ECB with PKCS#7 padding, for WeChat Pay v2 refund `req_info`. WebCrypto has no ECB, so
 * this one primitive comes from workerd's `node:crypto` (nodejs_compat). Throws on bad padding.
 */
export function aesEcbDecrypt(key: Bytes, data: Bytes): Bytes {
  if (key.byteLength !== 32) throw new RangeError('AES-256-ECB needs a 32-byte key')
  const decipher = createDecipheriv('aes-256-ecb', key, null)
  const head = decipher.update(data)
  const tail = decipher.final()
  const out = new Uint8Array(head.length + tail.length)
  out.set(head, 0)
  out.set(tail, head.length)
  return out
}

export function randomBytes(length: number): Bytes {
  return crypto.getRandomValues(new Uint8Array(length))
}
