/** @module Delivery ids that name the object holding the delivery, and the object an id names. */
import { fromBase64Url, fromHex, toBase64Url, toHex } from '../../crypto/encoding'
import { newId } from '../../lib/ids'

/** The Durable Object that stores a delivery: an order's or a subject's, by its id (`DurableObjectId.toString()`). */
export interface DeliveryHolder {
  kind: 'order' | 'subject'
  objectId: string
}

const KIND_MARKS = { order: 'o', subject: 's' } as const
/** A Durable Object id as `toString()` writes it: 32 bytes in hex. */
const OBJECT_ID = /^[0-9a-f]{64}$/
/** The object's 32 bytes and 8 random ones, in base64url (54 characters). */
const HOLDER_ID = /^dlv_([os])([A-Za-z0-9_-]{54})$/
const RANDOM_BYTES = 8

/**
 * The ids of one object's new deliveries, `dlv_o…` (an order object's) or `dlv_s…` (a subject object's): each names the
 * object that holds it, so the admin API asks that object (the authority) rather than the D1 projection, which trails
 * it by a queue batch. The random bytes keep ids apart within one object; the object's id keeps them apart across
 * objects. Base64url rather than hex: the id is the key of D1's deliveries rows and of their index entries (59
 * characters rather than 86). The object's id is read once, when its store is made.
 */
export function deliveryIdsOf(holder: DeliveryHolder): () => string {
  // Not an id as this runtime writes them: ids of the earlier kind, found through D1.
  if (!OBJECT_ID.test(holder.objectId)) return () => newId('dlv')
  const mark = KIND_MARKS[holder.kind]
  const objectBytes = fromHex(holder.objectId)
  return () => {
    const bytes = new Uint8Array(objectBytes.length + RANDOM_BYTES)
    bytes.set(objectBytes)
    crypto.getRandomValues(bytes.subarray(objectBytes.length))
    return `dlv_${mark}${toBase64Url(bytes)}`
  }
}

/** The object a delivery id names, or null for an id that names none (any id of earlier versions: `dlv_<random>`). */
export function deliveryHolderOf(deliveryId: string): DeliveryHolder | null {
  const match = HOLDER_ID.exec(deliveryId)
  if (match === null) return null
  const objectId = toHex(fromBase64Url(match[2] as string).subarray(0, 32))
  return { kind: match[1] === 'o' ? 'order' : 'subject', objectId }
}
