/** @module Prefixed random identifiers (`evt_…`, `dlv_…`, `ntf_…`, `ntf_rej_…`), as Stripe and Svix name things. */

/** `ntf_rej`: a notification refused before it reached an object. */
export type IdPrefix = 'evt' | 'dlv' | 'ntf' | 'ntf_rej'

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`
}

export function isoNow(ms: number): string {
  return new Date(ms).toISOString()
}

/** The Durable Object that stores a delivery: an order's or a subject's, by its id (`DurableObjectId.toString()`). */
export interface DeliveryHolder {
  kind: 'order' | 'subject'
  objectId: string
}

const KIND_MARKS = { order: 'o', subject: 's' } as const
const HOLDER_ID = /^dlv_([os])([0-9a-f]{64})_[0-9a-f]{16}$/

/**
 * `dlv_o<object id>_<random>`: a delivery's id names the object that holds it, so the admin API asks that object (the
 * authority) rather than the D1 projection, which trails it by a queue batch. The random part (a UUID's last 62 random
 * bits) keeps ids apart within one object; the object's id keeps them apart across objects.
 */
export function newDeliveryId(holder: DeliveryHolder): string {
  return `dlv_${KIND_MARKS[holder.kind]}${holder.objectId}_${crypto.randomUUID().replaceAll('-', '').slice(-16)}`
}

/** The object a delivery id names, or null for an id that names none (any id of earlier versions: `dlv_<random>`). */
export function deliveryHolderOf(deliveryId: string): DeliveryHolder | null {
  const match = HOLDER_ID.exec(deliveryId)
  if (match === null) return null
  return { kind: match[1] === 'o' ? 'order' : 'subject', objectId: match[2] as string }
}
