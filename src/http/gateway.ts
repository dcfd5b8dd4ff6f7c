/**
 * @module The Worker, built from a list of providers: `createGateway({ providers })`, and the Durable Object classes
 * that query and download keys through the same providers: `gatewayObjects({ providers })`. The default gateway
 * (`src/index.ts`) lists paygate's own; a gateway with another provider added exports both, built from one list.
 */
import { dailyMaintenance } from '../ops/daily'
import { parkDeadLetters } from '../ops/dead-letters'
import { consumeProjection, DEAD_LETTER_QUEUE, PROJECTION_QUEUE } from '../ops/projection-consumer'
import type { ProjectionRecord } from '../storage/projection'
import { ProviderRegistry, type ProviderDescriptor } from '../providers'
import { buildRouter } from './router'
import { MerchantReplica } from '../merchants/merchant-replica'
import { OrderObject } from '../order/order-object'
import { SubjectObject } from '../order/subject-object'

export interface GatewayOptions {
  providers: readonly ProviderDescriptor[]
}

export function createGateway(options: GatewayOptions): ExportedHandler<Env> {
  const registry = new ProviderRegistry(options.providers)
  const router = buildRouter(registry)
  return {
    fetch(request, env, ctx): Promise<Response> {
      // Not async: a notification's request goes straight to the router, without another promise around it.
      if (request.method !== 'HEAD') return router.fetch(request, env, ctx)
      // HEAD is GET without the body (RFC 9110 §9.3.2): the same status and headers, for uptime checks and caches.
      return router
        .fetch(new Request(request, { method: 'GET' }), env, ctx)
        .then((response) => new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers }))
    },
    // The daily cron (wrangler.toml `[triggers]`): certificate notices, stats retention.
    scheduled(controller, env, ctx): void {
      ctx.waitUntil(dailyMaintenance(env, registry, controller.scheduledTime))
    },
    // The projection queue and its dead-letter queue (wrangler.toml `[[queues.consumers]]`).
    queue(batch, env): Promise<void> {
      const records = batch as MessageBatch<ProjectionRecord>
      if (batch.queue === PROJECTION_QUEUE) return consumeProjection(records, env)
      if (batch.queue === DEAD_LETTER_QUEUE) return parkDeadLetters(records, env)
      // A queue bound to this Worker by mistake: its messages are retried (and dead-lettered), never taken for ours.
      throw new TypeError(`no consumer for queue ${batch.queue}`)
    },
  }
}

/**
 * The Durable Object classes whose work of their own (order and refund queries, confirming payments by query, key
 * downloads) goes through these providers, to export beside `createGateway`'s Worker under the names wrangler.toml
 * binds. The classes `src/index.ts` exports are the default providers' own.
 */
export function gatewayObjects(options: GatewayOptions) {
  const registry = new ProviderRegistry(options.providers)
  return {
    OrderObject: class extends OrderObject {
      protected override readonly registry = registry
    },
    SubjectObject: class extends SubjectObject {
      protected override readonly registry = registry
    },
    MerchantReplica: class extends MerchantReplica {
      protected override readonly registry = registry
    },
  }
}
