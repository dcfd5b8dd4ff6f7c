/**
 * @module One HTTP delivery of a signed event to a merchant. What the merchant or the network did is a typed
 * outcome, never an exception: 2xx delivered, 410 gone (stop), anything else is retried. Redirects are not
 * followed, since the forward URL was checked against SSRF and a redirect could lead anywhere.
 * @see https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md (delivery behaviour)
 */
import { concatBytes } from '../crypto/encoding'
import { resolvedHostProblem } from '../lib/outbound-url'
import { USER_AGENT } from '../lib/user-agent'
import type { AttemptError } from './attempt-errors'
import { parseRetryAfter } from './schedule'
import type { WebhookHeaders } from './sign'

interface AttemptFacts {
  /** The merchant's HTTP status, null when no response arrived. */
  statusCode: number | null
  latencyMs: number
  /** The start of the merchant's reply, for the delivery log. */
  responseSnippet: string
}

export type AttemptResult =
  | (AttemptFacts & { kind: 'delivered'; statusCode: number })
  | (AttemptFacts & { kind: 'gone'; statusCode: 410 })
  | (AttemptFacts & { kind: 'retry'; error?: AttemptError; retryAfter?: number })

/** What a failed attempt's record says of it: the transport error, or the status code. */
export function retryError(result: Extract<AttemptResult, { kind: 'retry' }>): string {
  return result.error ?? `HTTP ${result.statusCode}`
}

export const DEFAULT_ATTEMPT_TIMEOUT_MS = 15_000

/** At most this many attempts per alarm run of an outbox (an order's, a monitor's), well inside the alarm's wall time. */
export const ATTEMPTS_PER_RUN = 10
/** How long an attempt holds its delivery: longer than one can take, so a crashed run's lease lapses and it goes again. */
export const ATTEMPT_LEASE_MS = 4 * DEFAULT_ATTEMPT_TIMEOUT_MS
export const RESPONSE_SNIPPET_BYTES = 1024

export interface AttemptInput {
  url: string
  body: string
  /** From `signWebhook`, signed for this attempt. */
  headers: WebhookHeaders
  /** Covers connecting, the response headers and reading the snippet. */
  timeoutMs?: number
  /** Clock in epoch milliseconds, for latency and `Retry-After` dates. */
  now?: () => number
}

export async function attemptDelivery({
  url,
  body,
  headers,
  timeoutMs = DEFAULT_ATTEMPT_TIMEOUT_MS,
  now = Date.now,
}: AttemptInput): Promise<AttemptResult> {
  // The host name is looked up again right before the request: it may point somewhere else than when it was saved.
  // (Its own time limit; not counted in the attempt's latency.)
  const hostProblem = await resolvedHostProblem(url)
  if (hostProblem !== null) {
    const error: AttemptError = hostProblem === 'refused' ? 'resolves to a refused address' : 'dns lookup failed'
    return { kind: 'retry', statusCode: null, latencyMs: 0, responseSnippet: '', error }
  }
  const signal = AbortSignal.timeout(timeoutMs)
  const started = now()
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': USER_AGENT },
      body,
      redirect: 'manual',
      signal,
    })
  } catch {
    const error: AttemptError = signal.aborted ? 'timeout' : 'network error'
    return { kind: 'retry', statusCode: null, latencyMs: now() - started, responseSnippet: '', error }
  }
  const responseSnippet = await readSnippet(response, signal)
  const finished = now()
  const facts = { latencyMs: finished - started, responseSnippet }
  const { status } = response
  if (status >= 200 && status < 300) return { kind: 'delivered', statusCode: status, ...facts }
  if (status === 410) return { kind: 'gone', statusCode: 410, ...facts }
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'), finished)
  return {
    kind: 'retry',
    statusCode: status,
    ...facts,
    ...(status >= 300 && status < 400 ? { error: 'redirect not followed' as const } : {}),
    ...(retryAfter === null ? {} : { retryAfter }),
  }
}

/**
 * The first `RESPONSE_SNIPPET_BYTES` of the body as text. Reads only that far, then cancels the stream, so a
 * merchant replying with megabytes costs us neither the download nor the memory. A body that fails or outlives
 * the timeout yields what arrived so far.
 */
async function readSnippet(response: Response, signal: AbortSignal): Promise<string> {
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const stop = (): void => void reader.cancel().catch(() => {})
  signal.addEventListener('abort', stop, { once: true })
  if (signal.aborted) stop()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < RESPONSE_SNIPPET_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      const part = value.subarray(0, RESPONSE_SNIPPET_BYTES - size)
      chunks.push(part)
      size += part.byteLength
    }
  } catch {
    // The body broke off; the status already tells the outcome.
  } finally {
    signal.removeEventListener('abort', stop)
    stop()
  }
  // Streaming mode leaves out a character cut in half at the byte limit instead of rendering U+FFFD.
  return new TextDecoder().decode(concatBytes(...chunks), { stream: true })
}
