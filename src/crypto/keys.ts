/**
 * @module Imported `CryptoKey`s, cached per isolate by the fingerprint of their material, so a hot
 * path never re-imports a key. Like every module-level value in src/, these caches hold derived,
 * immutable values only, bounded in size or held weakly: nothing a request could change for another.
 */
import { concatBytes, toHex, utf8 } from './encoding'

const MAX_CACHED_KEYS = 512
const keysByFingerprint = new Map<string, Promise<CryptoKey>>()

export type RsaHash = 'SHA-256' | 'SHA-1'

async function fingerprint(usage: string, material: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', concatBytes(utf8(`${usage}\0`), material))
  return toHex(digest)
}

/**
 * Imported keys by the identity of their material, in front of the fingerprint cache. Hot paths hand in the
 * same shared, never-modified arrays again and again (configured provider keys from
 * `cachedSpkiFromPublicKeyText`, the APIv3 key's bytes kept with the merchant config) and so skip a SHA-256 of
 * the material on every notification; any other array goes through the fingerprint. Entries die with the array.
 */
const importedByMaterial = new WeakMap<Uint8Array, Map<string, Promise<CryptoKey>>>()

/** The imported key for `usage` of `material`: by identity, else by fingerprint, else imported now. */
function cached(usage: string, material: Uint8Array, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
  const known = importedByMaterial.get(material)?.get(usage)
  if (known !== undefined) return known
  const key = byFingerprint(usage, material, load)
  // Remembered only once imported: a failed import is retried, as in the fingerprint cache.
  key.then(
    () => {
      const usages = importedByMaterial.get(material) ?? new Map<string, Promise<CryptoKey>>()
      usages.set(usage, key)
      importedByMaterial.set(material, usages)
    },
    () => undefined,
  )
  return key
}

async function byFingerprint(usage: string, material: Uint8Array, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
  const id = await fingerprint(usage, material)
  let key = keysByFingerprint.get(id)
  if (key === undefined) {
    key = load()
    // A failed import must not stay cached: the next request retries (and fails the same way).
    key.catch(() => keysByFingerprint.delete(id))
    if (keysByFingerprint.size >= MAX_CACHED_KEYS) keysByFingerprint.delete(keysByFingerprint.keys().next().value!)
    keysByFingerprint.set(id, key)
  }
  return key
}

/** RSASSA-PKCS1-v1_5 verification key from SPKI DER. */
export function rsaPublicKey(spki: Uint8Array<ArrayBuffer>, hash: RsaHash): Promise<CryptoKey> {
  return cached(`rsa-verify:${hash}`, spki, () =>
    crypto.subtle.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['verify']),
  )
}

/** RSASSA-PKCS1-v1_5 signing key from PKCS#8 DER. */
export function rsaPrivateKey(pkcs8: Uint8Array<ArrayBuffer>, hash: RsaHash): Promise<CryptoKey> {
  return cached(`rsa-sign:${hash}`, pkcs8, () =>
    crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['sign']),
  )
}

export function hmacSha256Key(secret: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return cached('hmac-sha256', secret, () =>
    crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
  )
}

/** AES-GCM key (16, 24 or 32 raw bytes). */
export function aesGcmKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return cached('aes-gcm', raw, () => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']))
}

/**
 * The key bytes of secrets held as text (a `whsec_` secret, an APIv2 key), the same array for the same text, so
 * `cached` finds their imported key by identity instead of a SHA-256 of the material on every use. One cache per
 * way of decoding; bounded in size and in time (30 s, as long as the merchant settings they come from are cached),
 * so the bytes of a secret rotated out leave this cache at the next lookup after that. The arrays are shared: never
 * modify one.
 */
export class KeyBytesByText {
  readonly #bytes = new Map<string, { bytes: Uint8Array<ArrayBuffer>; at: number }>()

  constructor(
    private readonly decode: (text: string) => Uint8Array<ArrayBuffer>,
    private readonly limit = 256,
    private readonly ttlMs = 30_000,
  ) {}

  /** Texts held now (for tests). */
  get size(): number {
    return this.#bytes.size
  }

  of(text: string, now = Date.now()): Uint8Array<ArrayBuffer> {
    // Entries are in the order they were decoded: the expired ones are at the front.
    for (const [held, { at }] of this.#bytes) {
      if (now - at < this.ttlMs && now >= at) break
      this.#bytes.delete(held)
    }
    const known = this.#bytes.get(text)
    if (known !== undefined) return known.bytes
    const bytes = this.decode(text)
    if (this.#bytes.size >= this.limit) this.#bytes.delete(this.#bytes.keys().next().value!)
    this.#bytes.set(text, { bytes, at: now })
    return bytes
  }
}

const utf8Keys = /* @__PURE__ */ new KeyBytesByText(utf8)

/** A key given as text and used as its UTF-8 bytes (a WeChat Pay APIv2 or APIv3 key), through one `KeyBytesByText`. */
export function utf8KeyBytes(text: string): Uint8Array<ArrayBuffer> {
  return utf8Keys.of(text)
}
