/**
 * @module Merchant-side verification of the events paygate forwards (Standard Webhooks): the three headers,
 * timestamp tolerance in both directions, any of the space-separated `v1,` signatures, then the JSON body.
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md (verifying)
 */
import { fromBase64, fromUtf8 } from './crypto/encoding'
import { hmacSha256Verify, type Bytes } from './crypto/primitives'
import { SIGNATURE_VERSION, signedContent, type WebhookHeaderName } from './delivery/sign'
import { webhookSigningKey } from './delivery/webhook-secret'
import type { WebhookTestEvent } from './delivery/webhook-test-event'
import type { ForwardedEvent } from './order/events'

export const DEFAULT_TOLERANCE_SECONDS = 300

/** Every event a merchant's endpoint can receive: order and provider events, and `webhook.test`. */
export type MerchantEvent = ForwardedEvent | WebhookTestEvent

/** Why a request is not an authentic, fresh paygate event, with the fixed message each reason carries. */
const FAILURE_MESSAGES = {
  missing_headers: 'Missing required headers',
  invalid_timestamp: 'Invalid timestamp header',
  timestamp_too_old: 'Message timestamp too old',
  timestamp_too_new: 'Message timestamp too new',
  no_matching_signature: 'No matching signature found',
  invalid_payload: 'Payload is not a JSON object',
} as const

export type WebhookVerificationFailure = keyof typeof FAILURE_MESSAGES

/** The request did not come from paygate, or not recently: answer it with a 4xx. Messages never hold secrets. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError'
  constructor(readonly reason: WebhookVerificationFailure) {
    super(FAILURE_MESSAGES[reason])
  }
}

export interface VerifyWebhookOptions {
  /** Allowed clock difference, either way. Default 300 s. */
  toleranceSeconds?: number
  /** Unix seconds; defaults to the current time. */
  now?: number
}

/** A request's headers as a plain object: Node's `request.headers` (`IncomingHttpHeaders`), or a framework's. */
export type RequestHeaders = Record<string, string | readonly string[] | undefined>

/**
 * Verifies a forwarded event and returns it parsed. Pass the body exactly as received (text or bytes), never a
 * re-serialised object: the signature covers the bytes. Throws `WebhookVerificationError`, or `RangeError` when
 * `secret` is not a `whsec_` secret (a configuration mistake, not a bad request).
 */
export async function verifyWebhook(
  secret: string,
  headers: Headers | RequestHeaders,
  body: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): Promise<MerchantEvent> {
  const { toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now = Math.floor(Date.now() / 1000) } = options
  const key = webhookSigningKey(secret)
  const id = header(headers, 'webhook-id')
  const timestampText = header(headers, 'webhook-timestamp')
  const signatureList = header(headers, 'webhook-signature')
  if (!id || !timestampText || !signatureList) throw new WebhookVerificationError('missing_headers')

  if (!/^\d{1,15}$/.test(timestampText)) throw new WebhookVerificationError('invalid_timestamp')
  const timestamp = Number(timestampText)
  if (now - timestamp > toleranceSeconds) throw new WebhookVerificationError('timestamp_too_old')
  if (timestamp - now > toleranceSeconds) throw new WebhookVerificationError('timestamp_too_new')

  const content = signedContent(id, timestamp, body)
  const matches = await Promise.all(candidateSignatures(signatureList).map((candidate) => hmacSha256Verify(key, content, candidate)))
  if (!matches.includes(true)) throw new WebhookVerificationError('no_matching_signature')

  let event: unknown
  try {
    event = JSON.parse(typeof body === 'string' ? body : fromUtf8(body))
  } catch {
    throw new WebhookVerificationError('invalid_payload')
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new WebhookVerificationError('invalid_payload')
  }
  return event as MerchantEvent
}

function header(headers: Headers | RequestHeaders, name: WebhookHeaderName): string | null {
  if (headers instanceof Headers) return headers.get(name)
  // Plain objects come from frameworks that may keep the sender's capitalisation.
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue
    if (typeof value === 'string') return value
    // A header sent more than once: signatures are one list; an id or a timestamp given twice is none.
    return name === 'webhook-signature' ? value.join(' ') : value.length === 1 ? value[0]! : null
  }
  return null
}

/** The `v1` signatures in the header as bytes; other versions (`v1a`, ed25519) and malformed entries are skipped. */
function candidateSignatures(signatureList: string): Bytes[] {
  const candidates: Bytes[] = []
  for (const entry of signatureList.split(' ')) {
    const [version, encoded] = entry.split(',', 2)
    if (version !== SIGNATURE_VERSION || encoded === undefined) continue
    try {
      candidates.push(fromBase64(encoded))
    } catch {
      // Not base64: cannot match.
    }
  }
  return candidates
}
