/**
 * @module Registering the amount the merchant expects for an order, and planning the provider
 * queries that catch a payment whose notification never comes.
 */
import { isoNow } from '../lib/ids'
import type { CombinedPaymentRef } from '../providers/core/types'
import type { OrderRef, OrderStatus } from '../storage/order'
import { noteNamedCombine } from './combined-payment'
import type { OrderContext } from './context'
import { sealForwardTarget, type ForwardSettings } from './forward-target'
import { DEFAULT_ORDER_LIFETIME_MS, RECONCILE_SCHEDULE_MINUTES } from './reconcile-schedule'
import { AWAITING_PAYMENT, PAID_STATES } from './state-machine'

export interface Expectation {
  amount: number
  currency: string
  /** Epoch ms after which the order can no longer be paid: queries stop there. */
  expiresAt?: number
  /** The combined payment the merchant says the order is a sub-order of: its queries go through the combine. */
  combinedPayment?: CombinedPaymentRef
}

export interface Registration {
  status: OrderStatus
  /** Why the registration was refused (paid with another amount, or reported with another combine), or null. */
  conflict: string | null
}

/** Registers (or re-registers) the expected amount; refused once the order was paid with another. */
export async function registerOrder(
  ctx: OrderContext,
  order: OrderRef,
  settings: ForwardSettings,
  expected: Expectation,
): Promise<Registration> {
  const { amount, currency, expiresAt, combinedPayment } = expected
  const saveForwardTarget = await sealForwardTarget(ctx, order.merchantId, settings)
  const nowMs = Date.now()
  const now = isoNow(nowMs)
  const result = ctx.store.transaction((): Registration => {
    const current = ctx.store.order.ensure(order, now)
    // A payment found by query is forwarded like a notified one: the object needs the target too.
    saveForwardTarget(now)
    const paid = current.amount !== null && PAID_STATES.has(current.status)
    if (paid && (current.amount !== amount || (current.currency ?? 'CNY') !== currency)) {
      return { status: current.status, conflict: `the order was already paid with ${current.amount} ${current.currency ?? 'CNY'}` }
    }
    const combineConflict = combinedPayment === undefined ? null : noteNamedCombine(ctx.store, current, combinedPayment)
    if (combineConflict !== null) return { status: current.status, conflict: combineConflict }
    ctx.store.order.save({ ...current, expectedAmount: amount, expectedCurrency: currency }, now)
    if (AWAITING_PAYMENT.has(current.status)) {
      ctx.store.reconciliation.plan(nowMs + RECONCILE_SCHEDULE_MINUTES[0] * 60_000, expiresAt ?? nowMs + DEFAULT_ORDER_LIFETIME_MS)
    }
    return { status: current.status, conflict: null }
  })
  if (result.conflict === null) await ctx.store.setAlarm(nowMs)
  return result
}
