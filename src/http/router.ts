/**
 * @module Routes, built from the gateway's providers: one notify route per channel (and its 405),
 * the admin API under /admin, and every domain error mapped to its reply here, once.
 */
import { Router, type IRequestStrict } from 'itty-router'
import { errorName, log } from '../lib/log'
import { ValidationError } from '../lib/validation'
import type { ChannelAdapter, ProviderRegistry } from '../providers'
import { requireAdmin } from './admin-auth'
import { getMerchant, putMerchant } from './admin-merchants'
import { listDeliveries, replayDelivery } from './admin-deliveries'
import { listNotifications } from './admin-notifications'
import { getOrder, putOrder, syncOrder } from './admin-orders'
import { handleNotify } from './notify'
import { AdminError, adminErrorResponse, json } from './responses'

type RouteArgs = [Env, ExecutionContext]
type RouteRequest = IRequestStrict & { params: Record<string, string> }

function toErrorResponse(error: unknown): Response {
  if (error instanceof AdminError) return adminErrorResponse(error)
  if (error instanceof ValidationError) return adminErrorResponse(new AdminError('invalid_request', error.message))
  log('error', { event: 'admin.unhandled_error', error: errorName(error) })
  return json({ error: { code: 'internal', message: 'internal error' } }, 500)
}

function methodNotAllowed(): never {
  throw new AdminError('method_not_allowed', 'provider callbacks are POST requests')
}

const notifyPath = (adapter: ChannelAdapter): string => `/notify/:merchantId/${adapter.path}`

/**
 * A path value, percent-decoded exactly once (itty-router hands them over raw): `/orders/A%7C1` names
 * the order `A|1`, as a notification for `A|1` does.
 */
function param(request: RouteRequest, name: string): string {
  const raw = request.params[name] ?? ''
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new AdminError('invalid_request', `${name}: not a valid percent-encoded path segment`)
  }
}

export function buildRouter(registry: ProviderRegistry) {
  const router = Router<RouteRequest, RouteArgs>({ catch: toErrorResponse })
  for (const adapter of registry.channels) {
    // Raw: merchant ids are plain ASCII, so an encoded one is simply unknown (and gets the channel's reply).
    router.post(notifyPath(adapter), (request, env, ctx) =>
      handleNotify(adapter, request.params.merchantId ?? '', request, env, ctx, registry),
    )
  }
  router
    .all('/admin/*', async (request, env) => {
      await requireAdmin(request, env)
    })
    .put('/admin/merchants/:merchantId', (request, env) => putMerchant(request, env, param(request, 'merchantId'), registry))
    .get('/admin/merchants/:merchantId', (request, env) => getMerchant(request, env, param(request, 'merchantId'), registry))
    .put('/admin/merchants/:merchantId/orders/:outTradeNo', (request, env) =>
      putOrder(request, env, param(request, 'merchantId'), param(request, 'outTradeNo'), registry),
    )
    .get('/admin/merchants/:merchantId/orders/:outTradeNo', (request, env) =>
      getOrder(request, env, param(request, 'merchantId'), param(request, 'outTradeNo'), registry),
    )
    .post('/admin/merchants/:merchantId/orders/:outTradeNo/sync', (request, env) =>
      syncOrder(request, env, param(request, 'merchantId'), param(request, 'outTradeNo'), registry),
    )
    .get('/admin/merchants/:merchantId/deliveries', (request, env) => listDeliveries(request, env, param(request, 'merchantId')))
    .get('/admin/merchants/:merchantId/notifications', (request, env) =>
      listNotifications(request, env, param(request, 'merchantId'), registry),
    )
    .post('/admin/deliveries/:deliveryId/replay', (request, env) => replayDelivery(request, env, param(request, 'deliveryId')))
  for (const adapter of registry.channels) router.all(notifyPath(adapter), methodNotAllowed)
  return router.all('*', () => {
    throw new AdminError('not_found', 'no such endpoint')
  })
}
