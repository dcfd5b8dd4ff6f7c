/**
 * @module A gateway built from one list of providers: `createGateway({ providers })` gives the Worker and the Durable
 * Object classes whose own work (order and refund queries, confirming payments by query, key downloads) goes through
 * those same providers. `src/index.ts` exports the default providers' gateway; one with another provider added
 * exports its own, so no part of it can know a different list of providers than the rest.
 */
import { MerchantReplica } from '../merchants/merchant-replica'
import { dailyMaintenance } from '../ops/daily'
import { parkDeadLetters } from '../ops/dead-letters'
import { consumeProjection, DEAD_LETTER_QUEUE, PROJECTION_QUEUE } from '../ops/projection-consumer'
import { OrderObject } from '../order/order-object'
import { SubjectObject } from '../order/subject-object'
import { ProviderRegistry, type ProviderDescriptor } from '../providers'
import type { ProjectionRecord } from '../storage/projection'
import { buildRouter } from './router'

export interface GatewayOptions {
  providers: readonly ProviderDescriptor[]
}

type ObjectClass<T> = new (ctx: DurableObjectState, env: Env) => T

/** Export `worker` as the module's default, and each class under the name wrangler.toml binds. */
export interface Gateway {
  worker: ExportedHandler<Env>
  OrderObject: ObjectClass<OrderObject>
  SubjectObject: ObjectClass<SubjectObject>
  MerchantReplica: ObjectClass<MerchantReplica>
}

export function createGateway(options: GatewayOptions): Gateway {
  const registry = new ProviderRegistry(options.providers)
  return {
    worker: workerOf(registry),
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

function workerOf(registry: ProviderRegistry): ExportedHandler<Env> {
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
