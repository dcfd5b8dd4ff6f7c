/** @module Standard Webhooks secrets: `whsec_` + base64 of 24–64 random bytes. */
import { fromBase64 } from '../crypto/encoding'

const PREFIX = 'whsec_'
const MIN_KEY_BYTES = 24
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
  return null
}

/** The HMAC key inside a secret that passed `webhookSecretProblem`. */
export function webhookSigningKey(secret: string): Uint8Array<ArrayBuffer> {
  const problem = webhookSecretProblem(secret)
  if (problem !== null) throw new RangeError(`webhook secret ${problem}`)
  return fromBase64(secret.slice(PREFIX.length))
}
