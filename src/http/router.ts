/** @module Routes: provider callbacks under /notify, the admin API under /admin, errors mapped once. */
import { Router, type IRequestStrict } from 'itty-router'
import { requireAdmin } from './admin-auth'
import { getMerchant, putMerchant } from './admin-merchants'
import { getOrder, listDeliveries, listNotifications, putOrder, replayDelivery, syncOrder } from './admin-orders'
import { handleNotify } from './notify'
import { AdminError, adminErrorResponse, json } from './responses'

type RouteArgs = [Env, ExecutionContext]
type RouteRequest = IRequestStrict & { params: Record<string, string> }

function toErrorResponse(error: unknown): Response {
  if (error instanceof AdminError) return adminErrorResponse(error)
  console.error('unhandled error', error instanceof Error ? error.name : typeof error)
  return json({ error: { code: 'internal', message: 'internal error' } }, 500)
}

function methodNotAllowed(): never {
  throw new AdminError('method_not_allowed', 'provider callbacks are POST requests')
}

export const router = Router<RouteRequest, RouteArgs>({
  catch: toErrorResponse,
})
  .post('/notify/:merchantId/wechatpay/v2', (request, env, ctx) =>
    handleNotify('wechatpay.v2', request.params.merchantId!, request, env, ctx),
  )
  .post('/notify/:merchantId/wechatpay/v3', (request, env, ctx) =>
    handleNotify('wechatpay.v3', request.params.merchantId!, request, env, ctx),
  )
  .post('/notify/:merchantId/alipay', (request, env, ctx) => handleNotify('alipay', request.params.merchantId!, request, env, ctx))
  .all('/admin/*', async (request, env) => {
    await requireAdmin(request, env)
  })
  .put('/admin/merchants/:merchantId', (request, env) => putMerchant(request, env, request.params.merchantId!))
  .get('/admin/merchants/:merchantId', (request, env) => getMerchant(request, env, request.params.merchantId!))
  .put('/admin/merchants/:merchantId/orders/:outTradeNo', (request, env) =>
    putOrder(request, env, request.params.merchantId!, request.params.outTradeNo!),
  )
  .get('/admin/merchants/:merchantId/orders/:outTradeNo', (request, env) =>
    getOrder(request, env, request.params.merchantId!, request.params.outTradeNo!),
  )
  .post('/admin/merchants/:merchantId/orders/:outTradeNo/sync', (request, env) =>
    syncOrder(request, env, request.params.merchantId!, request.params.outTradeNo!),
  )
  .get('/admin/merchants/:merchantId/deliveries', (request, env) => listDeliveries(request, env, request.params.merchantId!))
  .get('/admin/merchants/:merchantId/notifications', (request, env) => listNotifications(request, env, request.params.merchantId!))
  .post('/admin/deliveries/:deliveryId/replay', (request, env) => replayDelivery(request, env, request.params.deliveryId!))
  .all('/notify/:merchantId/wechatpay/v2', methodNotAllowed)
  .all('/notify/:merchantId/wechatpay/v3', methodNotAllowed)
  .all('/notify/:merchantId/alipay', methodNotAllowed)
  .all('*', () => {
    throw new AdminError('not_found', 'no such endpoint')
  })
