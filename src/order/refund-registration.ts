/**
 * @module Registering a refund the merchant asked the provider for (`PUT …/refunds/{outRefundNo}`):
 * its amount settles a held notification of it, and refund queries are planned until the provider
 * reports it settled.
 */
import { isoNow } from '../lib/ids'
import { blankRefund, type OrderRef, type OrderStatus, type RefundRow } from '../storage/order'
import type { OrderContext } from './context'
import { sealForwardTarget, type ForwardSettings } from './forward-target'
import { addOrderEvents } from './outbox'
import { RECONCILE_SCHEDULE_MINUTES, REFUND_LIFETIME_MS } from './reconcile-schedule'
import { settleRefunds } from './refund-decision'
import { PAID_STATES } from './state-machine'

export interface RefundRegistration {
  status: OrderStatus
  refund: RefundRow
  /** Why the registration was refused, or null. */
  conflict: string | null
}

export interface RefundRequest {
  outRefundNo: string
  amount: number
  /** The merchant's keys allow refund queries: whether a held refund waits for one. */
  canQueryRefunds: boolean
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
    const current = store.order.ensure(order, now)
    saveForwardTarget(now)
    const existing = store.refunds.get(request.outRefundNo) ?? blankRefund(request.outRefundNo)
    const refuse = (conflict: string): RefundRegistration => ({ status: current.status, refund: existing, conflict })
    const orderAmount = current.amount ?? current.expectedAmount
    if (orderAmount !== null && request.amount > orderAmount) {
      return refuse(`the refund exceeds the order's amount (${orderAmount})`)
    }
    if (existing.status === 'succeeded' && existing.amount !== request.amount) {
      return refuse(`the refund already succeeded with ${existing.amount}`)
    }
    if (existing.status === 'succeeded' || existing.status === 'closed') return { status: current.status, refund: existing, conflict: null }
    const firstQuery = nowMs + RECONCILE_SCHEDULE_MINUTES[0] * 60_000
    const registered: RefundRow = {
      ...existing,
      registeredAmount: request.amount,
      nextQueryAt: Math.min(existing.nextQueryAt ?? firstQuery, firstQuery),
      expiresAt: Math.max(existing.expiresAt ?? 0, nowMs + REFUND_LIFETIME_MS),
    }
    store.refunds.save(registered, now)
    if (!PAID_STATES.has(current.status)) return { status: current.status, refund: registered, conflict: null }
    // The registered amount may settle a held notification of this refund (and others after it).
    const rows = store.refunds.rows()
    const settled = settleRefunds(current, rows, request.canQueryRefunds, now)
    for (const row of settled.change.rows) store.refunds.save(row, now)
    for (const r of settled.change.emitted) store.refunds.record(r.outRefundNo, r.outcome, r.amount)
    if (settled.events.length > 0) {
      store.order.save(settled.next, now)
      // Only held notifications settle here: each event carries its own notification's channel and fields.
      addOrderEvents(store, current, settled.next, settled.events, { provider: current.provider, report: null }, nowMs)
    }
    return { status: settled.next.status, refund: store.refunds.get(request.outRefundNo)!, conflict: null }
  })
  if (result.conflict === null) await ctx.store.setAlarm(nowMs)
  return result
}
