/**
 * @module The order Durable Object: the single authority for one order, and a thin shell. Each RPC
 * and the alarm hand their work to a module with one job: ingest, registration (of the order, of its
 * refunds), provider queries (order and refunds), the admin view, replay, the alarm (deliveries, then
 * the D1 projection).
 */
import { DurableObject } from 'cloudflare:workers'
import { migrateOrderSchema, OrderStore, type DeliveryRow, type OrderRef } from '../storage/order'
import { runAlarm } from './alarm'
import type { OrderContext } from './context'
import type { ForwardSettings } from './forward-target'
import { ingestNotification, type IngestRequest, type IngestResult } from './ingest'
import { Reconciler, syncOrder, type SyncResult } from './reconcile'
import { RefundReconciler } from './refund-reconcile'
import { registerRefund, type RefundRegistration, type RefundRequest } from './refund-registration'
import { registerOrder, type Expectation, type Registration } from './registration'
import { replayDelivery } from './replay'
import { orderSnapshot, type OrderSnapshot } from './snapshot'

export type { ForwardSettings } from './forward-target'
export type { IngestRejection, IngestRequest, IngestResult } from './ingest'
export type { RefundRegistration, RefundRequest } from './refund-registration'
export type { SyncResult } from './reconcile'
export type { OrderSnapshot } from './snapshot'

export class OrderObject extends DurableObject<Env> {
  private readonly store: OrderStore
  private readonly reconciler = new Reconciler()
  private readonly refundReconciler = new RefundReconciler()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    // Synchronous: the schema is current before the first RPC or alarm reaches the object.
    migrateOrderSchema(ctx.storage)
    this.store = new OrderStore(ctx.storage.sql)
  }

  /** Records a verified notification exactly once. Throws only when nothing could be stored. */
  ingest(request: IngestRequest): Promise<IngestResult> {
    return ingestNotification(this.context(), request)
  }

  /** Registers the amount the merchant expects, and plans the queries that catch a lost notification. */
  register(order: OrderRef, settings: ForwardSettings, expected: Expectation): Promise<Registration> {
    return registerOrder(this.context(), order, settings, expected)
  }

  /** Registers a refund the merchant asked for: settles a held notification of it, plans refund queries. */
  registerRefund(order: OrderRef, settings: ForwardSettings, refund: RefundRequest): Promise<RefundRegistration> {
    return registerRefund(this.context(), order, settings, refund)
  }

  /** Asks the provider about this order and its unsettled refunds now (admin sync), whatever the schedule says. */
  sync(order: OrderRef, settings: ForwardSettings): Promise<SyncResult> {
    return syncOrder(this.context(), this.reconciler, this.refundReconciler, order, settings)
  }

  snapshot(): OrderSnapshot | null {
    return orderSnapshot(this.store)
  }

  /** Sends a delivery again with the same `webhook-id` (admin replay). */
  replay(deliveryId: string, settings: ForwardSettings): Promise<DeliveryRow | null> {
    return replayDelivery(this.context(), deliveryId, settings)
  }

  override alarm(): Promise<void> {
    return runAlarm(this.context(), this.reconciler, this.refundReconciler)
  }

  /** Built per call: `env` is the instance's field, and whoever swaps it (tests do) is heard at once. */
  private context(): OrderContext {
    return { env: this.env, storage: this.ctx.storage, store: this.store }
  }
}
