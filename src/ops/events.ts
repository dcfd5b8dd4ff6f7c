/**
 * @module Operational webhooks: the events paygate sends about itself to OPS_WEBHOOK_URL, Standard-Webhooks-signed
 * with OPS_WEBHOOK_SECRET, each with `data.merchant_id` (contract: "Operational webhooks").
 */
import { newId } from '../lib/ids'

export const OPS_EVENT_TYPES = [
  'delivery.exhausted',
  'endpoint.disabled',
  'endpoint.enabled',
  'certificate.expiring',
  'notifications.rejected_spike',
] as const
export type OpsEventType = (typeof OPS_EVENT_TYPES)[number]

/** The body POSTed to the ops URL; its `webhook-id` (the event id) travels in the headers. */
export interface OpsEvent {
  type: OpsEventType
  timestamp: string
  data: { merchant_id: string; [field: string]: unknown }
}

export interface BuiltOpsEvent {
  id: string
  type: OpsEventType
  body: string
}

/** `id`: the event's own, when telling of it twice must give one event (else a fresh one). */
export function opsEvent(type: OpsEventType, merchantId: string, data: object, now: number, id = newId('evt')): BuiltOpsEvent {
  const event: OpsEvent = { type, timestamp: new Date(now).toISOString(), data: { merchant_id: merchantId, ...data } }
  return { id, type, body: JSON.stringify(event) }
}

/**
 * A delivery's `delivery.exhausted`, one per time its retries ran out: an order object that tells the monitor again
 * (its last report's reply was lost) gives the same event, not a second alert. Sent again and failing again later, it
 * has made more attempts: another event.
 */
export function exhaustedEventId(delivery: { delivery_id: string; attempts: number }): string {
  return `evt_exhausted_${delivery.delivery_id}_${delivery.attempts}`
}
