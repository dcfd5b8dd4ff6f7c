/** @module Worker entry: the HTTP surface and the order Durable Object class. */
import { router } from './http/router'

export { OrderObject } from './order/order-object'
export { verifyWebhook, WebhookVerificationError } from './verify-webhook'

export default {
  fetch(request, env, ctx): Promise<Response> {
    return router.fetch(request, env, ctx)
  },
} satisfies ExportedHandler<Env>
