/**
 * @module The order Durable Object: the single authority for one order, and a thin shell. Each RPC
 * and the alarm hand their work to a module with one job: ingest, registration (of the order, of its
 * refunds), provider queries (order and refunds), the admin view, replay, the alarm (deliveries, then
 * the D1 projection).
 */
import { DurableObject } from 'cloudflare:workers'
import type { ProviderRegistry } from '../providers'
import type { CombinedPaymentRef } from '../providers/core/types'
import { OrderStore, openOrderStorage, type DeliveryRow, type OrderRef } from '../storage/order'
import { runAlarm } from './alarm'
import type { OrderContext, ProjectionMemo } from './context'
import { deliveryView, type DeliveryView } from './delivery-view'
import type { ForwardSettings } from './forward-target'
import { meterAlarm } from './meter'
import { ingestNotification, type IngestRequest, type IngestResult } from './ingest'
import { Reconciler, syncOrder, type SyncResult } from './reconcile'
import { recoverDeliveries, type RecoveryWindow } from './recover'
import { RefundReconciler } from './refund-reconcile'
import { refundConflict, registerRefund, type RefundAmount, type RefundRegistration, type RefundRequest } from './refund-registration'
import { registerOrder, type Expectation, type Registration } from './registration'
import { replayDelivery } from './replay'
import { scheduleRetention } from './retention'
import { orderSnapshot, type OrderSnapshot } from './snapshot'

export type { DeliveryView } from './delivery-view'
export type { ForwardSettings } from './forward-target'
export type { RecoveryWindow } from './recover'
export type { IngestRejection, IngestRequest, IngestResult } from './ingest'
export type { RefundAmount, RefundRegistration, RefundRequest } from './refund-registration'
export type { SyncResult } from './reconcile'
export type { OrderSnapshot } from './snapshot'

export abstract class OrderObject extends DurableObject<Env> {
  /** The providers it queries: its gateway's (`createGateway` in http/gateway.ts makes the class from them). */
  protected abstract readonly registry: ProviderRegistry
  private readonly store: OrderStore
  private readonly projection: ProjectionMemo = { lastSent: null, handedOn: null, alarmRunning: false }
  private readonly reconciler = new Reconciler()
  private readonly refundReconciler = new RefundReconciler()
  /** Whether this instance has read its schema (and converted a legacy layout): once, on first use. */
  private opened = false

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.store = new OrderStore(ctx.storage, { kind: 'order', objectId: ctx.id.toString() })
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

  /** Why `registerRefund` would refuse this refund now, or null. Writes nothing: a never-seen order stays uncreated. */
  refundConflict(refund: RefundAmount): string | null {
    if (!this.exists()) return null
    return refundConflict(this.context().store, refund)
  }

  /**
   * Asks the provider about this order and its unsettled refunds now (admin sync), whatever the schedule says; through
   * `combinedPayment` when the admin names the combine the order is a sub-order of.
   */
  sync(order: OrderRef, settings: ForwardSettings, combinedPayment?: CombinedPaymentRef): Promise<SyncResult> {
    return syncOrder(this.context(), this.reconciler, this.refundReconciler, order, settings, combinedPayment)
  }

  /** The admin view; null, with nothing created, for an order this object never stored. */
  snapshot(): OrderSnapshot | null {
    if (!this.exists()) return null
    return orderSnapshot(this.context().store)
  }

  /** Sends a delivery again with the same `webhook-id` (admin replay). */
  async replay(deliveryId: string, settings: ForwardSettings): Promise<DeliveryRow | null> {
    if (!this.exists()) return null
    return replayDelivery(this.context(), deliveryId, settings)
  }

  /** Sends every failed delivery created within the window again (bulk recovery); returns how many. */
  async recover(window: RecoveryWindow, settings: ForwardSettings): Promise<number> {
    if (!this.exists()) return 0
    return recoverDeliveries(this.context(), window, settings)
  }

  /** One delivery with its attempts (admin view); null when this order has no such delivery. */
  delivery(deliveryId: string): DeliveryView | null {
    if (!this.exists()) return null
    return deliveryView(this.context().store, deliveryId)
  }

  /** Brings a settled order's alarm forward to its retention date (none set by an early version, or a later one); true when it did. */
  async scheduleRetention(): Promise<boolean> {
    if (!this.exists()) return false
    return scheduleRetention(this.context())
  }

  override async alarm(): Promise<void> {
    if (!this.exists()) return
    const ctx = this.context()
    await meterAlarm(ctx, 'order', () => runAlarm(ctx, this.reconciler, this.refundReconciler))
  }

  private exists(): boolean {
    this.open()
    return this.store.exists()
  }

  /** Built per call: `env` is the instance's field, and whoever swaps it (tests do) is heard at once. */
  private context(): OrderContext {
    this.open()
    return { env: this.env, storage: this.ctx.storage, store: this.store, projection: this.projection, registry: this.registry }
  }

  /** One read of the schema per instance: converts a legacy layout, and tells the store whether its table exists. */
  private open(): void {
    if (this.opened) return
    openOrderStorage(this.ctx.storage, this.store)
    this.opened = true
  }
}
