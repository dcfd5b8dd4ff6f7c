/** @module Admin replay: sends a delivery again with the same `webhook-id`, to the merchant's current endpoint. */
import { isoNow } from '../lib/ids'
import type { DeliveryRow } from '../storage/order'
import type { OrderContext } from './context'
import { sealForwardTarget, type ForwardSettings } from './forward-target'

/** The delivery as it now stands, or null when this order has no such delivery. */
export async function replayDelivery(ctx: OrderContext, deliveryId: string, settings: ForwardSettings): Promise<DeliveryRow | null> {
  const { store } = ctx
  // An order object, or a subject object of provider notifications.
  const merchantId = store.order.get()?.merchantId ?? store.subject.get()?.merchantId
  if (merchantId === undefined) return null
  const saveForwardTarget = await sealForwardTarget(ctx, merchantId, settings, { resend: true })
  const nowMs = Date.now()
  const now = isoNow(nowMs)
  const delivery = store.deliveries.get(deliveryId)
  if (delivery === null) return null
  // The merchant's current settings: a replay after re-enabling (or moving) the endpoint goes there.
  saveForwardTarget(now)
  // Earlier deliveries of the order that failed go first: events reach the merchant in the order they happened.
  store.deliveries.requeue(deliveryId, nowMs, now)
  await ctx.store.setAlarm(nowMs)
  return store.deliveries.get(deliveryId)
}
