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
 * Notes the combine the merchant names for this order, in the caller's transaction; returns why it is refused: once
 * the order is paid, it is what the payment's report made it, a sub-order of its combine or an ordinary order.
 */
export function noteNamedCombine(store: OrderStore, current: OrderRow, combine: CombinedPaymentRef): string | null {
  if (sameCombine(current.combinedPayment, combine)) return null
  if (PAID_STATES.has(current.status)) {
    const paidAs = current.combinedPayment?.combineOutTradeNo
    return paidAs === undefined
      ? 'the order was paid as an ordinary order, not as part of a combined payment'
      : `the order was paid as part of combined payment ${paidAs}`
  }
  store.order.noteCombinedPayment(combine)
  return null
}
