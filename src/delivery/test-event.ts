/**
 * @module A `webhook.test` event (`data: {merchant_id}`): signed like any event, sent once, never retried, and the
 * attempt's outcome handed back, so an operator can check an endpoint (before enabling it, after moving it).
 */
import { newId } from '../lib/ids'
import { log } from '../lib/log'
import { outboundUrlProblem } from '../lib/outbound-url'
import { attemptDelivery, retryError } from './attempt'
import { signWebhook } from './sign'
import type { WebhookTestEvent } from './webhook-test-event'

export interface TestEventTarget {
  url: string
  secret: string
  previousSecret?: string
}

export interface TestEventOutcome {
  event_id: string
  delivered: boolean
  status_code: number | null
  duration_ms: number
  error: string | null
  response_snippet: string
}

export async function sendTestEvent(
  merchantId: string,
  target: TestEventTarget,
  options: { allowLoopback: boolean; now?: () => number },
): Promise<TestEventOutcome> {
  const clock = options.now ?? Date.now
  const id = newId('evt')
  const problem = outboundUrlProblem(target.url, { allowLoopback: options.allowLoopback })
  if (problem !== null) {
    return {
      event_id: id,
      delivered: false,
      status_code: null,
      duration_ms: 0,
      error: `forward URL refused: ${problem}`,
      response_snippet: '',
    }
  }
  const event: WebhookTestEvent = { type: 'webhook.test', timestamp: new Date(clock()).toISOString(), data: { merchant_id: merchantId } }
  const body = JSON.stringify(event)
  const secrets = target.previousSecret === undefined ? [target.secret] : [target.secret, target.previousSecret]
  const headers = await signWebhook({ id, timestamp: Math.floor(clock() / 1000), body, secrets })
  const result = await attemptDelivery({ url: target.url, body, headers, now: clock })
  const error = result.kind === 'retry' ? retryError(result) : result.kind === 'gone' ? 'endpoint gone (410)' : null
  log(result.kind === 'delivered' ? 'info' : 'warn', {
    event: 'delivery.test',
    merchant_id: merchantId,
    event_id: id,
    outcome: result.kind,
    status_code: result.statusCode,
    duration_ms: result.latencyMs,
  })
  return {
    event_id: id,
    delivered: result.kind === 'delivered',
    status_code: result.statusCode,
    duration_ms: result.latencyMs,
    error,
    response_snippet: result.responseSnippet,
  }
}
