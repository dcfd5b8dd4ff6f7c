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

export function opsEvent(type: OpsEventType, merchantId: string, data: object, now: number): BuiltOpsEvent {
  const event: OpsEvent = { type, timestamp: new Date(now).toISOString(), data: { merchant_id: merchantId, ...data } }
  return { id: newId('evt'), type, body: JSON.stringify(event) }
}
