/**
 * @module Secrets at rest: AES-256-GCM under the gateway's MASTER_KEY, bound to their owner (the
 * merchant id goes in as associated data, so a sealed value copied to another merchant won't open).
 * Each sealed value names the key that sealed it (`v2.<key id>.…`), so MASTER_KEY can be rotated:
 * values sealed under MASTER_KEY_PREVIOUS keep opening until they are sealed again under the new key.
 */
import { fromBase64, fromUtf8, toBase64, utf8 } from './encoding'
import { aesGcmDecrypt, aesGcmEncrypt, randomBytes, sha256, type Bytes } from './primitives'

/** Written before key ids: no id, sealed under whichever key was current then. */
const LEGACY_VERSION = 'v1'
const VERSION = 'v2'

export class MasterKeyInvalid extends Error {
  override readonly name = 'MasterKeyInvalid'
}

/** A sealed value names a key the gateway does not hold (MASTER_KEY_PREVIOUS removed too early). */
export class MasterKeyUnknown extends Error {
  override readonly name = 'MasterKeyUnknown'
}

/** MASTER_KEY is 32 random bytes in base64. */
export function readMasterKey(encoded: string | undefined, name = 'MASTER_KEY'): Bytes {
  if (encoded === undefined || encoded === '') throw new MasterKeyInvalid(`${name} is not set`)
  let key: Bytes
  try {
    key = fromBase64(encoded.trim())
  } catch {
    throw new MasterKeyInvalid(`${name} is not base64`)
  }
  if (key.byteLength !== 32) throw new MasterKeyInvalid(`${name} must decode to 32 bytes`)
  return key
}

const keyIds = new WeakMap<Bytes, Promise<string>>()

/**
 * A key's public name: 8 characters of a domain-separated SHA-256 of it. It tells keys apart, and 48
 * bits of a hash say nothing useful about the 256-bit key.
 */
export function masterKeyId(key: Bytes): Promise<string> {
  let id = keyIds.get(key)
  if (id === undefined) {
    const input = new Uint8Array([...utf8('paygate master key id\0'), ...key])
    id = sha256(input).then((digest) => toBase64(digest).replace(/[+/=]/g, '').slice(0, 8))
    keyIds.set(key, id)
  }
  return id
}

/** The id of the key that sealed `envelope`, or null for a value sealed before ids were written. */
export function sealedKeyId(envelope: string): string | null {
  const [version, id] = envelope.split('.')
  return version === VERSION && id !== undefined ? id : null
}

export async function seal(masterKey: Bytes, owner: string, plaintext: string): Promise<string> {
  const iv = randomBytes(12)
  const sealed = await aesGcmEncrypt(masterKey, iv, utf8(owner), utf8(plaintext))
  return `${VERSION}.${await masterKeyId(masterKey)}.${toBase64(iv)}.${toBase64(sealed)}`
}

/** Opens a value sealed under `masterKey`; throws when another key sealed it, or it was tampered with. */
export async function open(masterKey: Bytes, owner: string, envelope: string): Promise<string> {
  const parts = envelope.split('.')
  let iv: string | undefined
  let sealed: string | undefined
  if (parts[0] === VERSION && parts.length === 4) {
    if (parts[1] !== (await masterKeyId(masterKey))) throw new MasterKeyUnknown('sealed under another master key')
    ;[, , iv, sealed] = parts
  } else if (parts[0] === LEGACY_VERSION && parts.length === 3) {
    ;[, iv, sealed] = parts
  }
  if (iv === undefined || sealed === undefined) throw new RangeError('unknown sealed-secret format')
  return fromUtf8(await aesGcmDecrypt(masterKey, fromBase64(iv), utf8(owner), fromBase64(sealed)))
}

/** MASTER_KEY, and MASTER_KEY_PREVIOUS while a rotation is under way: seals with the first, opens with either. */
export class MasterKeyring {
  constructor(
    readonly current: Bytes,
    readonly previous: Bytes | null,
  ) {}

  seal(owner: string, plaintext: string): Promise<string> {
    return seal(this.current, owner, plaintext)
  }

  async open(owner: string, envelope: string): Promise<string> {
    const id = sealedKeyId(envelope)
    if (id !== null) {
      if (id === (await masterKeyId(this.current))) return open(this.current, owner, envelope)
      if (this.previous !== null && id === (await masterKeyId(this.previous))) return open(this.previous, owner, envelope)
      throw new MasterKeyUnknown(`sealed under key ${id}, which is neither MASTER_KEY nor MASTER_KEY_PREVIOUS`)
    }
    // Sealed before key ids: by the current key, or the one before it. Opened by neither, it was most likely sealed
    // under a key since removed (it names none to tell); a malformed envelope is still its own error.
    const keys = this.previous === null ? [this.current] : [this.current, this.previous]
    for (const key of keys) {
      try {
        return await open(key, owner, envelope)
      } catch (error) {
        if (error instanceof RangeError) throw error
      }
    }
    throw new MasterKeyUnknown('sealed before key ids, and opened by neither MASTER_KEY nor MASTER_KEY_PREVIOUS')
  }

  /** Whether `envelope` is already sealed under the current key (a reseal leaves it as it is). */
  async sealsWithCurrent(envelope: string): Promise<boolean> {
    return sealedKeyId(envelope) === (await masterKeyId(this.current))
  }
}

const keyrings = new Map<string, MasterKeyring>()

/**
 * The keyring from the two secrets' text; MASTER_KEY_PREVIOUS may be absent (or empty). Remembered per
 * isolate (derived, immutable), so key ids are hashed once, not per request.
 */
export function readMasterKeyring(current: string | undefined, previous: string | undefined): MasterKeyring {
  const memo = `${current ?? ''}\n${previous ?? ''}`
  let keyring = keyrings.get(memo)
  if (keyring === undefined) {
    const currentKey = readMasterKey(current)
    const previousKey = previous === undefined || previous.trim() === '' ? null : readMasterKey(previous, 'MASTER_KEY_PREVIOUS')
    keyring = new MasterKeyring(currentKey, previousKey)
    // A rotation changes the pair once or twice: a handful of entries is all an isolate ever holds.
    if (keyrings.size >= 4) keyrings.clear()
    keyrings.set(memo, keyring)
  }
  return keyring
}
