/**
 * @module Readers for the fields provider config sections share: provider ids, API keys, RSA keys in
 * any of the forms consoles hand out, and provider API URLs. Each throws `ValidationError` naming the
 * field; none ever echoes key material.
 */
import { toPem } from '../../crypto/encoding'
import { rsaPrivateKey, rsaPublicKey } from '../../crypto/keys'
import { rsaPrivateKeyFromText, type RsaPrivateKeyInfo } from '../../crypto/private-keys'
import { spkiFromPublicKeyText } from '../../crypto/x509'
import { outboundUrlProblem } from '../../lib/outbound-url'
import { fail, stringAt } from '../../lib/validation'

/** What a section's validation may depend on besides the body. */
export interface ConfigContext {
  /** Allow `http://localhost` provider API URLs: only while the Worker runs locally. */
  allowLoopback: boolean
}

// Provider ids (appid, mchid, app_id, seller_id) are short printable ASCII; whitespace would never match a notify.
const PROVIDER_ID = /^[\x21-\x7e]{1,64}$/
const MAX_PUBLIC_KEY_TEXT = 16 * 1024
const MAX_PRIVATE_KEY_TEXT = 16 * 1024

export function providerIdAt(value: unknown, path: string): string {
  const text = stringAt(value, path)
  if (!PROVIDER_ID.test(text)) fail(path, 'must be 1–64 printable ASCII characters without spaces')
  return text
}

/**
 * One provider id or a list of them (one mchid serves an official account, a mini program and an app). Kept as
 * given, a string or a list, so GET shows what was saved; code reads it through `idsOf`.
 */
export type ProviderIds = string | readonly string[]

// A merchant has a handful of apps; a list this long is a mistake, not a set-up.
const MAX_IDS = 50

/** A provider id (`providerIdAt`) or a non-empty list of distinct ones, each checked with its index in the path. */
export function providerIdsAt(value: unknown, path: string): string | string[] {
  const list = listAt(value, path, MAX_IDS, 'ids')
  if (list === null) {
    if (typeof value !== 'string') fail(path, value === undefined ? 'is required' : 'must be a string or a list of strings')
    return providerIdAt(value, path)
  }
  return distinctAt(
    list.map((item, index) => providerIdAt(item, `${path}[${index}]`)),
    path,
  )
}

/**
 * Where one value or a list of them may be given (ids, keys): the list's items, refused when empty or longer than
 * `max` (`noun` names them); null when `value` is no list.
 */
export function listAt(value: unknown, path: string, max: number, noun: string): readonly unknown[] | null {
  if (!Array.isArray(value)) return null
  if (value.length === 0) fail(path, 'must not be an empty list')
  if (value.length > max) fail(path, `must list at most ${max} ${noun}`)
  return value
}

/** The values of a list as read, refusing the first one read twice by its index in the path. */
export function distinctAt<T>(values: T[], path: string): T[] {
  values.forEach((value, index) => {
    if (values.indexOf(value) !== index) fail(`${path}[${index}]`, 'is listed twice')
  })
  return values
}

/** The ids of a `ProviderIds` value, in the order saved; none for an absent one. */
export function idsOf(ids: ProviderIds | undefined): readonly string[] {
  if (ids === undefined) return []
  return typeof ids === 'string' ? [ids] : ids
}

/** Whether `id` is one of `ids`. */
export function includesId(ids: ProviderIds | undefined, id: string): boolean {
  return idsOf(ids).includes(id)
}

/** A `ProviderIds` value as GET shows it: a copy, never the stored (frozen) list itself. */
export function idsView(ids: ProviderIds): string | string[] {
  return typeof ids === 'string' ? ids : [...ids]
}

/**
 * Private-key text (PKCS#8 or PKCS#1 PEM, or bare base64 DER) as PKCS#8 `PRIVATE KEY` PEM, proven to
 * import for signing. Messages never echo the key.
 */
export async function privateKeyPemAt(value: unknown, path: string, minBits: number): Promise<string> {
  const text = stringAt(value, path)
  if (text.length > MAX_PRIVATE_KEY_TEXT) fail(path, 'is too long for a private key')
  let key: RsaPrivateKeyInfo
  try {
    key = rsaPrivateKeyFromText(text)
  } catch (error) {
    fail(path, error instanceof RangeError ? error.message : 'is not a private key')
  }
  const { pkcs8, modulusLength } = key
  if (modulusLength < minBits) fail(path, `must be an RSA key of at least ${minBits} bits`)
  try {
    await rsaPrivateKey(pkcs8, 'SHA-256')
  } catch {
    fail(path, 'is not an RSA private key WebCrypto can sign with')
  }
  return toPem('PRIVATE KEY', pkcs8)
}

/** Public-key text (SPKI PEM, bare base64 SPKI or a PEM certificate) as SPKI `PUBLIC KEY` PEM. */
export async function publicKeyPemAt(text: string, path: string): Promise<string> {
  if (text.length > MAX_PUBLIC_KEY_TEXT) fail(path, 'is too long for a public key')
  let spki: Uint8Array<ArrayBuffer>
  try {
    spki = spkiFromPublicKeyText(text)
  } catch (error) {
    // x509/encoding reasons are short and never echo the key text.
    fail(path, error instanceof RangeError ? error.message : 'is not a public key')
  }
  try {
    // Importing proves the DER is an RSA key WebCrypto can verify with (and warms the key cache).
    await rsaPublicKey(spki, 'SHA-256')
  } catch {
    fail(path, 'is not an RSA public key')
  }
  return toPem('PUBLIC KEY', spki)
}

/**
 * A provider API URL (tests and local development point these at a stand-in): the outbound URL
 * policy (https, no private addresses, loopback only locally), no query or fragment, no trailing `/`.
 */
export function providerUrlAt(value: unknown, path: string, context: ConfigContext): string {
  const url = stringAt(value, path)
  const problem = outboundUrlProblem(url, { allowLoopback: context.allowLoopback })
  if (problem !== null) fail(path, problem)
  const parsed = new URL(url)
  if (parsed.search !== '' || parsed.hash !== '' || url.includes('?') || url.includes('#')) {
    fail(path, 'must not have a query or fragment')
  }
  return url.replace(/\/+$/, '')
}

/** `value` without its undefined properties, so spreading it never adds a key. */
export function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
