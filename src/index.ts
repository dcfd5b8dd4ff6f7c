/** @module Worker entry: the HTTP surface and the order Durable Object class. */
import { router } from './http/router'

export { OrderObject } from './order/order-object'

export default {
  fetch(request, env, ctx): Promise<Response> {
    return router.fetch(request, env, ctx)
  },
} satisfies ExportedHandler<Env>
