/**
 * @module RSA private keys from the text merchants paste: PKCS#8 (`PRIVATE KEY`) or PKCS#1
 * (`RSA PRIVATE KEY`) PEM, or bare base64 DER of either (Alipay's key tool writes bare PKCS#1 or
 * PKCS#8), normalized to the PKCS#8 DER WebCrypto imports.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { readPem, type PemBlock } from './encoding'
import type { Bytes } from './primitives'

export interface RsaPrivateKeyInfo {
  pkcs8: Bytes
  modulusLength: number
}

function importDer(der: Bytes, type: 'pkcs8' | 'pkcs1'): KeyObject | null {
  try {
    return createPrivateKey({ key: Buffer.from(der), format: 'der', type })
  } catch {
    return null
  }
}

/**
 * Reads any accepted private-key text. Throws `RangeError` with a short reason (never the key text)
 * when it is not an unencrypted RSA private key.
 */
export function rsaPrivateKeyFromText(text: string): RsaPrivateKeyInfo {
  let block: PemBlock
  try {
    block = readPem(text.trim())
  } catch {
    throw new RangeError('is neither PEM nor base64 DER')
  }
  const { label, der } = block
  let key: KeyObject | null
  switch (label) {
    case 'PRIVATE KEY':
      key = importDer(der, 'pkcs8')
      break
    case 'RSA PRIVATE KEY':
      key = importDer(der, 'pkcs1')
      break
    case '':
      key = importDer(der, 'pkcs8') ?? importDer(der, 'pkcs1')
      break
    default:
      // `ENCRYPTED PRIVATE KEY` included: the gateway has no passphrase to open it with.
      throw new RangeError(`expected a PRIVATE KEY or RSA PRIVATE KEY, got ${label}`)
  }
  if (key === null) throw new RangeError('is not a readable private key')
  if (key.asymmetricKeyType !== 'rsa') throw new RangeError('is not an RSA private key')
  return {
    pkcs8: new Uint8Array(key.export({ type: 'pkcs8', format: 'der' })),
    modulusLength: key.asymmetricKeyDetails?.modulusLength ?? 0,
  }
}
