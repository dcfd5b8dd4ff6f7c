/**
 * @module The cryptographic operations paygate performs, each in one place, through WebCrypto: RSA verify/sign,
 * HMAC-SHA256, MD5/SHA-256 digests, AES-256-GCM and constant-time comparison (AES-256-ECB, the one primitive
 * WebCrypto lacks, is in `aes-ecb.ts`). Providers and delivery build byte strings; this module does the crypto.
 * Nothing here needs `node:crypto`, so merchants' verifier (`verify-webhook.ts`) runs on any WebCrypto runtime.
 */
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

/** Whether `signature` is the HMAC-SHA256 of `data` under `secret`; the platform compares in constant time. */
export async function hmacSha256Verify(secret: Bytes, data: Bytes, signature: Bytes): Promise<boolean> {
  return crypto.subtle.verify('HMAC', await hmacSha256Key(secret), signature, data)
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
  // workerd's extension of WebCrypto; only the Worker compares this way (the verifier uses `hmacSha256Verify`). Typed
  // here, so the verifier's declarations build without workerd's.
  return (crypto.subtle as SubtleCrypto & { timingSafeEqual(a: Bytes, b: Bytes): boolean }).timingSafeEqual(a, b)
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

export function randomBytes(length: number): Bytes {
  return crypto.getRandomValues(new Uint8Array(length))
}
