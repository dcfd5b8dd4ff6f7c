/**
 * @module Admin API for a merchant's endpoint: disable, enable (each told to the ops webhook), and a signed test event
 * (refused while the endpoint is disabled, like every send; a 410 reply disables it and a success shows in its health,
 * as a delivery's do).
 */
import { sendTestEvent as send } from '../delivery/test-event'
import { disableEndpointByOperator, enableEndpointByOperator, reportDeliveryRun } from '../ops/monitor'
import { forwardView } from '../merchants/public-view'
import { requireEnabledEndpoint, requireMerchant } from './admin-common'
import { json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'
import { errorName, log } from '../lib/log'
import { allowsLoopback } from '../lib/outbound-url'

export const disableEndpoint: Handler<AdminRoutes['disableEndpoint']> = async ({ params, env }) => {
  const merchant = await requireMerchant(env, params.merchantId)
  const change = await disableEndpointByOperator(env, params.merchantId, Date.now())
  return json({ forward: forwardView(change.forward ?? merchant.config.forward) })
}

export const enableEndpoint: Handler<AdminRoutes['enableEndpoint']> = async ({ params, env }) => {
  const merchant = await requireMerchant(env, params.merchantId)
  const change = await enableEndpointByOperator(env, params.merchantId, Date.now())
  return json({ forward: forwardView(change.forward ?? merchant.config.forward) })
}

export const sendTestEvent: Handler<AdminRoutes['sendTestEvent']> = async ({ params, env }) => {
  const merchant = await requireMerchant(env, params.merchantId)
  requireEnabledEndpoint(merchant, 'send the test event')
  const { forward } = merchant.config
  const outcome = await send(params.merchantId, forward, { allowLoopback: allowsLoopback(env) })
  const run = { merchantId: params.merchantId, url: forward.url, exhausted: [] }
  if (outcome.status_code === 410) {
    // The endpoint asks not to be called again (contract: endpoint lifecycle): the monitor disables it and tells the
    // ops webhook, as for a delivery's 410, before the reply, so the operator's next look shows it disabled.
    await reportDeliveryRun(env, { ...run, goneUrl: forward.url, attempts: [{ at: Date.now(), ok: false }] })
  } else if (outcome.delivered) {
    // It answers: its health says so (a failing streak ends), as a delivery's success would, so the endpoint card is
    // right before a recovery. A test that fails starts no streak: the merchant's code may refuse a type it does not
    // handle, which says nothing of its payments' deliveries.
    // The event was sent: a monitor that cannot be told now does not turn its outcome into an error.
    await reportDeliveryRun(env, { ...run, goneUrl: null, attempts: [{ at: Date.now(), ok: true }] }).catch((error: unknown) =>
      log('warn', { event: 'endpoint_health.not_told', merchant_id: params.merchantId, error: errorName(error) }),
    )
  }
  return json(outcome)
}
