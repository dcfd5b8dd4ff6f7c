/**
 * @module Admin API for a merchant's endpoint: disable, enable (each told to the ops webhook), and a signed test event
 * (refused while the endpoint is disabled, like every send).
 */
import { sendTestEvent as send } from '../delivery/test-event'
import { disableEndpointByOperator, enableEndpointByOperator } from '../ops/monitor'
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
  return json(await send(params.merchantId, merchant.config.forward, { allowLoopback: allowsLoopback(env) }))
}
