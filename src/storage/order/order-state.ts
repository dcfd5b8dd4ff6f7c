/** @module The order as the state machine sees it: a field of the object's head record. */
import type { CombinedPaymentRef } from '../../providers/core/types'
import type { Head } from './head'
import type { OrderRef, OrderRow, OrderState } from './records'

export class OrderStateTable {
  constructor(private readonly head: Head) {}

  get(): OrderRow | null {
    return this.head.read().order ?? null
  }

  /** The order's row, created `pending` on first contact. */
  ensure(ref: OrderRef, now: string): OrderRow {
    const existing = this.get()
    if (existing !== null) return existing
    const order = newOrder(ref, now)
    this.head.update((head) => {
      head.order = order
    })
    return order
  }

  /** Records that the order is a sub-order of `combine` (a field of the order's record, written with it). */
  noteCombinedPayment(combine: CombinedPaymentRef): void {
    this.head.update((head) => {
      if (head.order === undefined) throw new TypeError('noting a combine of an order this object does not hold')
      head.order = { ...head.order, combinedPayment: combine }
    })
  }

  save(state: OrderState, now: string): void {
    this.head.update((head) => {
      if (head.order === undefined) throw new TypeError('saving an order this object does not hold')
      const { status, expectedAmount, expectedCurrency, amount, currency, transactionId, paidAt, refundedAmount } = state
      const changes = { status, expectedAmount, expectedCurrency, amount, currency, transactionId, paidAt, refundedAmount }
      head.order = { ...head.order, ...changes, version: head.order.version + 1, updatedAt: now }
    })
  }
}

/** The state of an order nothing has happened to yet: `pending`, nothing known. */
export const NEW_ORDER_STATE: Readonly<OrderState> = {
  status: 'pending',
  expectedAmount: null,
  expectedCurrency: null,
  amount: null,
  currency: null,
  transactionId: null,
  paidAt: null,
  refundedAmount: 0,
}

/** An order nothing has happened to yet. */
export function newOrder(ref: OrderRef, now: string): OrderRow {
  return { merchantId: ref.merchantId, provider: ref.provider, outTradeNo: ref.outTradeNo, ...NEW_ORDER_STATE, version: 1, updatedAt: now }
}
