/**
 * @module Admin API for a merchant's endpoint: disable, enable (each told to the ops webhook), and a signed test event
 * (refused while the endpoint is disabled, like every send; a 410 reply disables it, as a delivery's does).
 */
import { sendTestEvent as send } from '../delivery/test-event'
import { disableEndpointByOperator, enableEndpointByOperator, reportDeliveryRun } from '../ops/monitor'
import { forwardView } from '../merchants/public-view'
import { requireEnabledEndpoint, requireMerchant } from './admin-common'
import { json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'
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
  if (outcome.status_code === 410) {
    // The endpoint asks not to be called again (contract: endpoint lifecycle): the monitor disables it and tells the
    // ops webhook, as for a delivery's 410, before the reply, so the operator's next look shows it disabled.
    const gone = { merchantId: params.merchantId, url: forward.url, goneUrl: forward.url, exhausted: [] }
    await reportDeliveryRun(env, { ...gone, attempts: [{ at: Date.now(), ok: false }] })
  }
  return json(outcome)
}
