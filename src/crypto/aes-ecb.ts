/** @module The one cipher WebCrypto lacks, from workerd's `node:crypto` (nodejs_compat). */
import { createDecipheriv } from 'node:crypto'
import type { Bytes } from './primitives'

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
