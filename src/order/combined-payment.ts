/**
 * @module The combined payment (WeChat Pay 合单) an order is a sub-order of. A signed notification says so; the merchant
 * may say so first (registering or syncing the order), so that a sub-order whose callback is lost is still asked about,
 * through its combine: WeChat answers no ordinary query for it.
 */
import type { CombinedPaymentRef } from '../providers/core/types'
import type { OrderRow, OrderStore } from '../storage/order'
import { PAID_STATES } from './state-machine'

export function sameCombine(a: CombinedPaymentRef | undefined, b: CombinedPaymentRef | undefined): boolean {
  return a?.channel === b?.channel && a?.combineOutTradeNo === b?.combineOutTradeNo
}

/**
 * Notes the combine the merchant names for this order, in the caller's transaction; returns why it is refused. Once
 * the provider has reported on the order (paid or held, even refused), its word stands: a sub-order of the combine its
 * report named, or an ordinary order. Before that, a combine named again replaces the one named before.
 */
export function noteNamedCombine(store: OrderStore, current: OrderRow, combine: CombinedPaymentRef): string | null {
  // The combine already noted, by its number: the merchant names no channel, and one a callback noted stays (a v2
  // callback's, which no query asks about, is not the v3 channel a named combine is asked about on).
  if (current.combinedPayment?.combineOutTradeNo === combine.combineOutTradeNo) return null
  // A refund's report names no combine (WeChat's of a sub-order reads as an ordinary order's), so it says nothing of
  // one, even when it proved the payment: the merchant may still name the combine, and a lost callback is still found.
  const trail = store.notifications.all()
  const reports = trail.filter((n) => n.effect !== 'refund')
  // Compaction keeps the accepted entries, not the refusals: a paid order with no trail at all was reported too.
  if (reports.length > 0 || (PAID_STATES.has(current.status) && trail.length === 0)) {
    const reported = current.combinedPayment?.combineOutTradeNo
    return reported === undefined
      ? 'the provider reported the order as an ordinary order, not part of a combined payment'
      : `the provider reported the order as part of combined payment ${reported}`
  }
  store.order.noteCombinedPayment(combine)
  return null
}
