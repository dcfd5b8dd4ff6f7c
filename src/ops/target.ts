/** @module Where operational webhooks go: OPS_WEBHOOK_URL and OPS_WEBHOOK_SECRET, both set and usable, or nowhere. */
import { webhookSecretProblem } from '../delivery/webhook-secret'
import { log } from '../lib/log'
import { allowsLoopback, outboundUrlProblem } from '../lib/outbound-url'

export interface OpsTarget {
  url: string
  secret: string
}

/** The ops endpoint, or null when none is configured (a broken configuration is logged, never half used). */
export function opsTarget(env: Env): OpsTarget | null {
  const url = env.OPS_WEBHOOK_URL?.trim() ?? ''
  const secret = env.OPS_WEBHOOK_SECRET?.trim() ?? ''
  if (url === '' && secret === '') return null
  if (url === '' || secret === '') {
    // Half set (the URL a var, the secret a separate `wrangler secret put`, one forgotten): alerts are off, said loudly.
    log('error', {
      event: 'ops.misconfigured',
      reason: `${url === '' ? 'OPS_WEBHOOK_URL' : 'OPS_WEBHOOK_SECRET'} is not set: no ops webhook is sent`,
    })
    return null
  }
  const problem = outboundUrlProblem(url, { allowLoopback: allowsLoopback(env) }) ?? webhookSecretProblem(secret)
  if (problem !== null) {
    // The problem names no secret: webhookSecretProblem never echoes one.
    log('error', { event: 'ops.misconfigured', reason: problem })
    return null
  }
  return { url, secret }
}
