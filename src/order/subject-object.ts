/**
 * @module The subject Durable Object: the single authority for the provider notifications about one
 * thing that is not an order (a transfer bill, a complaint, a profit-sharing order). A thin shell like
 * the order object, over the same storage schema, outbox and alarm; only its subject, audit trail,
 * events and deliveries hold rows.
 */
import { DurableObject } from 'cloudflare:workers'
import type { ProviderRegistry } from '../providers'
import { OrderStore, openOrderStorage, type DeliveryRow } from '../storage/order'
import { runSubjectAlarm } from './alarm'
import type { OrderContext, ProjectionMemo } from './context'
import { deliveryView, type DeliveryView } from './delivery-view'
import type { ForwardSettings } from './forward-target'
import { meterAlarm } from './meter'
import { recoverDeliveries, type RecoveryWindow } from './recover'
import { replayDelivery } from './replay'
import { scheduleRetention } from './retention'
import { ingestSubjectNotification, type SubjectIngestRequest, type SubjectIngestResult } from './subject-ingest'

export type { SubjectIngestRequest, SubjectIngestResult } from './subject-ingest'

export abstract class SubjectObject extends DurableObject<Env> {
  /** The providers of its gateway (`createGateway` in http/gateway.ts makes the class from them). */
  protected abstract readonly registry: ProviderRegistry
  private readonly store: OrderStore
  private readonly projection: ProjectionMemo = { lastSent: null, handedOn: null, alarmRunning: false }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.store = new OrderStore(ctx.storage, { kind: 'subject', objectId: ctx.id.toString() })
    openOrderStorage(ctx.storage, this.store)
  }

  /** Records a verified provider notification exactly once and forwards it. Throws only when nothing could be stored. */
  ingest(request: SubjectIngestRequest): Promise<SubjectIngestResult> {
    return ingestSubjectNotification(this.context(), request)
  }

  /** One delivery with its attempts (admin view); null when this object has no such delivery. */
  delivery(deliveryId: string): DeliveryView | null {
    return deliveryView(this.store, deliveryId)
  }

  /** Sends a delivery again with the same `webhook-id` (admin replay). */
  replay(deliveryId: string, settings: ForwardSettings): Promise<DeliveryRow | null> {
    return replayDelivery(this.context(), deliveryId, settings)
  }

  /** Bulk recovery: this subject's failed deliveries created in the window go back to pending; returns how many. */
  recover(window: RecoveryWindow, settings: ForwardSettings): Promise<number> {
    return recoverDeliveries(this.context(), window, settings)
  }

  /** Brings the subject's alarm forward to its retention date (none before subjects were kept that way, or a later one); true when it did. */
  scheduleRetention(): Promise<boolean> {
    return scheduleRetention(this.context())
  }

  override async alarm(): Promise<void> {
    const ctx = this.context()
    await meterAlarm(ctx, 'subject', () => runSubjectAlarm(ctx))
  }

  private context(): OrderContext {
    return { env: this.env, storage: this.ctx.storage, store: this.store, projection: this.projection, registry: this.registry }
  }
}
