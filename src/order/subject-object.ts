/**
 * @module The subject Durable Object: the single authority for the provider notifications about one
 * thing that is not an order (a transfer bill, a complaint, a profit-sharing order). A thin shell like
 * the order object, over the same storage schema, outbox and alarm; only its subject, audit trail,
 * events and deliveries hold rows.
 */
import { DurableObject } from 'cloudflare:workers'
import { meter } from '../lib/log'
import { migrateOrderSchema, OrderStore, type DeliveryRow } from '../storage/order'
import { runSubjectAlarm } from './alarm'
import type { OrderContext } from './context'
import { deliveryView, type DeliveryView } from './delivery-view'
import type { ForwardSettings } from './forward-target'
import { replayDelivery } from './replay'
import { ingestSubjectNotification, type SubjectIngestRequest, type SubjectIngestResult } from './subject-ingest'

export type { SubjectIngestRequest, SubjectIngestResult } from './subject-ingest'

export class SubjectObject extends DurableObject<Env> {
  private readonly store: OrderStore
  private readonly projection = { lastSent: null as string | null }

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    migrateOrderSchema(ctx.storage)
    this.store = new OrderStore(ctx.storage)
  }

  /** Records a verified provider notification exactly once and forwards it. Throws only when nothing could be stored. */
  async ingest(request: SubjectIngestRequest): Promise<SubjectIngestResult> {
    const result = await ingestSubjectNotification(this.context(), request)
    const { rowsWritten, alarmsSet } = this.store.takeMeter()
    meter(this.env, {
      event: 'meter.object',
      object: 'subject',
      op: 'ingest',
      verdict: result.verdict,
      rows_written: rowsWritten,
      alarms_set: alarmsSet,
    })
    return result
  }

  /** One delivery with its attempts (admin view); null when this object has no such delivery. */
  delivery(deliveryId: string): DeliveryView | null {
    return deliveryView(this.store, deliveryId)
  }

  /** Sends a delivery again with the same `webhook-id` (admin replay). */
  replay(deliveryId: string, settings: ForwardSettings): Promise<DeliveryRow | null> {
    return replayDelivery(this.context(), deliveryId, settings)
  }

  override async alarm(): Promise<void> {
    await runSubjectAlarm(this.context())
    const { rowsWritten, alarmsSet } = this.store.takeMeter()
    meter(this.env, {
      event: 'meter.object',
      object: 'subject',
      op: 'alarm',
      verdict: null,
      rows_written: rowsWritten,
      alarms_set: alarmsSet,
    })
  }

  private context(): OrderContext {
    return { env: this.env, storage: this.ctx.storage, store: this.store, projection: this.projection }
  }
}
