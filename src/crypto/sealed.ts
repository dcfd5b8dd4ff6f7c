/**
 * @module Secrets at rest: AES-256-GCM under the gateway's MASTER_KEY, bound to their owner (the
 * merchant id goes in as associated data, so a sealed value copied to another merchant won't open).
 */
import { fromBase64, fromUtf8, toBase64, utf8 } from './encoding'
import { aesGcmDecrypt, aesGcmEncrypt, randomBytes, type Bytes } from './primitives'

const VERSION = 'v1'

export class MasterKeyInvalid extends Error {
  override readonly name = 'MasterKeyInvalid'
}

/** MASTER_KEY is 32 random bytes in base64. */
export function readMasterKey(encoded: string | undefined): Bytes {
  if (encoded === undefined || encoded === '') throw new MasterKeyInvalid('MASTER_KEY is not set')
  let key: Bytes
  try {
    key = fromBase64(encoded.trim())
  } catch {
    throw new MasterKeyInvalid('MASTER_KEY is not base64')
  }
  if (key.byteLength !== 32) throw new MasterKeyInvalid('MASTER_KEY must decode to 32 bytes')
  return key
}

export async function seal(masterKey: Bytes, owner: string, plaintext: string): Promise<string> {
  const iv = randomBytes(12)
  const sealed = await aesGcmEncrypt(masterKey, iv, utf8(owner), utf8(plaintext))
  return `${VERSION}.${toBase64(iv)}.${toBase64(sealed)}`
}

export async function open(masterKey: Bytes, owner: string, envelope: string): Promise<string> {
  const [version, iv, sealed] = envelope.split('.')
  if (version !== VERSION || iv === undefined || sealed === undefined) throw new RangeError('unknown sealed-secret format')
  return fromUtf8(await aesGcmDecrypt(masterKey, fromBase64(iv), utf8(owner), fromBase64(sealed)))
}
