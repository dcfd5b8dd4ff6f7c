/**
 * @module Standard Webhooks secrets: `whsec_` + base64 of 16–64 random bytes. 16 (128 bits) is the contract's floor;
 * Standard Webhooks recommends 24 or more, and the secrets paygate's tools generate have 32.
 */
import { fromBase64 } from '../crypto/encoding'
import { KeyBytesByText } from '../crypto/keys'

const PREFIX = 'whsec_'
const MIN_KEY_BYTES = 16
const MAX_KEY_BYTES = 64

/** Why `secret` is not a usable signing secret, or null. Never echoes the secret. */
export function webhookSecretProblem(secret: string): string | null {
  if (!secret.startsWith(PREFIX)) return `must start with ${PREFIX}`
  let key: Uint8Array
  try {
    key = fromBase64(secret.slice(PREFIX.length))
  } catch {
    return `must be ${PREFIX} followed by base64`
  }
  // Invalid or short base64 would give a tiny, guessable key (standard-webhooks issue #235).
  if (key.byteLength < MIN_KEY_BYTES || key.byteLength > MAX_KEY_BYTES) {
    return `must decode to ${MIN_KEY_BYTES}–${MAX_KEY_BYTES} bytes`
  }
  if (looksPatterned(key)) return 'must be random bytes (this one repeats a few values; generate it with a CSPRNG)'
  return null
}

/**
 * A cheap check against keys typed by hand: all-zero, repeated or counting keys fail. Random ones pass: n random
 * bytes have about n − n²/512 distinct values (15.5 of 16, 22.9 of 24) and rarely one value more than a few times,
 * so these bounds refuse a random key of 16 bytes about once in 10⁸, of 24 or more once in 10⁹ or less. Not an
 * entropy proof.
 */
function looksPatterned(key: Uint8Array): boolean {
  const counts = new Map<number, number>()
  for (const byte of key) counts.set(byte, (counts.get(byte) ?? 0) + 1)
  const mostCommon = Math.max(...counts.values())
  let steps = 0
  for (let i = 1; i < key.length; i++) if ((key[i]! - key[i - 1]! + 256) % 256 === (key[1]! - key[0]! + 256) % 256) steps++
  return counts.size < Math.min(12, key.length / 2) || mostCommon > Math.max(5, key.length / 4) || steps === key.length - 1
}

/** Checked and decoded once per secret: every delivery attempt signs with the same one or two. */
const signingKeys = new KeyBytesByText((secret) => {
  const problem = webhookSecretProblem(secret)
  if (problem !== null) throw new RangeError(`webhook secret ${problem}`)
  return fromBase64(secret.slice(PREFIX.length))
})

/** The HMAC key inside a secret that passes `webhookSecretProblem` (shared: never modify it). */
export function webhookSigningKey(secret: string): Uint8Array<ArrayBuffer> {
  return signingKeys.of(secret)
}
