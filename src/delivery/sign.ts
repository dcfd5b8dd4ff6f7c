/**
 * @module Standard Webhooks signing of forwarded events: the `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` headers, one `v1,` signature per active secret so merchants can rotate without downtime.
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
import { concatBytes, toBase64, utf8 } from '../crypto/encoding'
import { hmacSha256, type Bytes } from '../crypto/primitives'
import { webhookSigningKey } from './webhook-secret'

export type WebhookHeaderName = 'webhook-id' | 'webhook-timestamp' | 'webhook-signature'
export type WebhookHeaders = Record<WebhookHeaderName, string>

export const SIGNATURE_VERSION = 'v1'

/**
 * The bytes a `v1` signature covers: `${id}.${timestamp}.${body}`. Shared by signing and verifying so the two
 * cannot drift; a byte body is used as received (never decoded and re-encoded).
 */
export function signedContent(id: string, timestamp: number, body: string | Uint8Array): Bytes {
  return concatBytes(utf8(`${id}.${timestamp}.`), typeof body === 'string' ? utf8(body) : body)
}

/** The raw `v1` signature: HMAC-SHA256 of the signed content under the key inside a `whsec_` secret. */
export function contentSignature(key: Bytes, content: Bytes): Promise<Bytes> {
  return hmacSha256(key, content)
}

export interface SignWebhookInput {
  /** The event id (`evt_…`), stable across retries. */
  id: string
  /** Unix seconds of this attempt; every retry is signed afresh. */
  timestamp: number
  /** The exact JSON text that will be sent. */
  body: string
  /** Active secrets, current first; during rotation the previous secret follows. */
  secrets: readonly string[]
}

export async function signWebhook({ id, timestamp, body, secrets }: SignWebhookInput): Promise<WebhookHeaders> {
  if (id === '' || /\s/.test(id)) throw new RangeError('webhook id must be non-empty without whitespace')
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError('webhook timestamp must be Unix seconds')
  if (secrets.length === 0) throw new RangeError('at least one webhook secret is required')
  const keys = secrets.map(webhookSigningKey)
  const content = signedContent(id, timestamp, body)
  const signatures = await Promise.all(keys.map(async (key) => `${SIGNATURE_VERSION},${toBase64(await contentSignature(key, content))}`))
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
  }
}
