/** @module Worker entry: the HTTP surface and the Durable Object classes (orders, merchant replicas). */
import { router } from './http/router'

export { MerchantReplica } from './merchants/merchant-replica'
export { OrderObject } from './order/order-object'
export { verifyWebhook, WebhookVerificationError } from './verify-webhook'

export default {
  fetch(request, env, ctx): Promise<Response> {
    return router.fetch(request, env, ctx)
  },
} satisfies ExportedHandler<Env>
