/**
 * @module Registering a refund the merchant asked the provider for (`PUT …/refunds/{outRefundNo}`):
 * its amount settles a held notification of it, and refund queries are planned until the provider
 * reports it settled.
 */
import { isoNow } from '../lib/ids'
import {
  blankRefund,
  type OrderRef,
  type OrderRow,
  type OrderState,
  type OrderStatus,
  type OrderStore,
  type RefundRow,
  type RefundStatus,
} from '../storage/order'
import type { OrderContext } from './context'
import { sealForwardTarget, type ForwardSettings } from './forward-target'
import { addOrderEvents } from './outbox'
import { RECONCILE_SCHEDULE_MINUTES, REFUND_LIFETIME_MS } from './reconcile-schedule'
import { settleRefunds } from './refund-decision'
import { PAID_STATES } from './state-machine'

/**
 * Registered: the order's and the refund's status as they now are. Refused: only why (nothing was written). Statuses
 * rather than the refund's row: a held refund's raw provider fields are not the caller's, nor typed for RPC.
 */
export type RefundRegistration = { status: OrderStatus; refundStatus: RefundStatus; conflict: null } | { conflict: string }

/** What a registration asks for that the rules judge. */
export interface RefundAmount {
  outRefundNo: string
  amount: number
}

export interface RefundRequest extends RefundAmount {
  /** The merchant's keys allow refund queries: whether a held refund waits for one. */
  canQueryRefunds: boolean
}

/**
 * Why this object refuses to register the refund, or null: the one place the rules live, for the check before
 * registering (writes nothing) and for the registration's own transaction. A never-seen order refuses nothing.
 */
export function refundConflict(store: OrderStore, request: RefundAmount): string | null {
  const order = store.order.get()
  const orderAmount = order === null ? null : (order.amount ?? order.expectedAmount)
  if (orderAmount !== null && request.amount > orderAmount) return `the refund exceeds the order's amount (${orderAmount})`
  const existing = store.refunds.get(request.outRefundNo)
  if (existing?.status === 'succeeded')
    return existing.amount === request.amount ? null : `the refund already succeeded with ${existing.amount}`
  // What the provider already refunded is gone: a refund above the rest cannot have been made (the provider refuses it).
  const left = order === null || orderAmount === null ? null : orderAmount - order.refundedAmount
  if (left !== null && request.amount > left) return `the refund exceeds what is left to refund (${left} of ${orderAmount})`
  return null
}

/**
 * Settles the held refunds that have become certain, inside the caller's transaction: their events go to the outbox.
 * Returns the order as it now is.
 */
export function settleHeldRefunds(store: OrderStore, current: OrderRow, canQueryRefunds: boolean, nowMs: number): OrderState {
  const now = isoNow(nowMs)
  const settled = settleRefunds(current, store.refunds.rows(), canQueryRefunds, now)
  for (const row of settled.change.rows) store.refunds.save(row, now)
  for (const r of settled.change.emitted) store.refunds.record(r.outRefundNo, r.outcome, r.amount)
  if (settled.events.length > 0) {
    store.order.save(settled.next, now)
    // Only held notifications settle here: each event carries its own notification's channel and fields.
    addOrderEvents(store, current, settled.next, settled.events, { provider: current.provider, report: null }, nowMs)
  }
  return settled.next
}

export async function registerRefund(
  ctx: OrderContext,
  order: OrderRef,
  settings: ForwardSettings,
  request: RefundRequest,
): Promise<RefundRegistration> {
  const { store } = ctx
  const saveForwardTarget = await sealForwardTarget(ctx, order.merchantId, settings)
  const nowMs = Date.now()
  const now = isoNow(nowMs)
  const result = ctx.store.transaction((): RefundRegistration => {
    // Judged again here, whatever a check before said: the order may have changed since. Refused, nothing is written.
    const conflict = refundConflict(store, request)
    if (conflict !== null) return { conflict }
    const current = store.order.ensure(order, now)
    saveForwardTarget(now)
    const existing = store.refunds.get(request.outRefundNo) ?? blankRefund(request.outRefundNo)
    if (existing.status === 'succeeded' || existing.status === 'closed')
      return { status: current.status, refundStatus: existing.status, conflict: null }
    const firstQuery = nowMs + RECONCILE_SCHEDULE_MINUTES[0] * 60_000
    const registered: RefundRow = {
      ...existing,
      registeredAmount: request.amount,
      nextQueryAt: Math.min(existing.nextQueryAt ?? firstQuery, firstQuery),
      expiresAt: Math.max(existing.expiresAt ?? 0, nowMs + REFUND_LIFETIME_MS),
    }
    store.refunds.save(registered, now)
    if (!PAID_STATES.has(current.status)) return { status: current.status, refundStatus: registered.status, conflict: null }
    // The registered amount may settle a held notification of this refund (and others after it).
    const next = settleHeldRefunds(store, current, request.canQueryRefunds, nowMs)
    return { status: next.status, refundStatus: store.refunds.get(request.outRefundNo)!.status, conflict: null }
  })
  if (result.conflict === null) await ctx.store.setAlarm(nowMs)
  return result
}
