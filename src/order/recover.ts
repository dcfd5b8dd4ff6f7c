/**
 * @module Bulk recovery, one order's (or one subject's) part: every failed delivery created within the window goes back
 * to pending, due now, with its event (so its `webhook-id`) unchanged, and so do the order's failed deliveries before
 * it. The outbox sends the oldest first, so the order's events reach the merchant in the order they happened. Pending
 * and delivered ones are left alone: a second recovery, or one while a retry is due, sends nothing twice.
 */
import { isoNow } from '../lib/ids'
import type { OrderContext } from './context'
import { sealForwardTarget, type ForwardSettings } from './forward-target'

export interface RecoveryWindow {
  /** Inclusive and exclusive bounds on the delivery's creation, ISO-8601 as stored. */
  since: string
  until: string
}

/** How many deliveries went back to pending. */
export async function recoverDeliveries(ctx: OrderContext, window: RecoveryWindow, settings: ForwardSettings): Promise<number> {
  const { store } = ctx
  const owner = store.order.get() ?? store.subject.get()
  if (owner === null) return 0
  // The merchant's current settings: a recovery after re-enabling (or moving) the endpoint goes there.
  const saveForwardTarget = await sealForwardTarget(ctx, owner.merchantId, settings, { resend: true })
  const nowMs = Date.now()
  const now = isoNow(nowMs)
  const recovered = ctx.store.transaction(() => {
    saveForwardTarget(now)
    // The window's failed deliveries, with the order's earlier ones (should the window start after them): the line
    // goes in event order.
    const last = store.deliveries.failedBetween(window.since, window.until).at(-1)
    return last === undefined ? 0 : store.deliveries.requeueFailedThrough(last.eventSeq, nowMs, now)
  })
  if (recovered > 0) await ctx.store.setAlarm(nowMs)
  return recovered
}
