/**
 * @module The order state machine, as one pure function: given the order as stored and what a
 * verified notification reports, what changes and which events the merchant gets.
 *
 *   pending ─payment→ paid ─refund→ partially_refunded ─refund→ refunded
 *   pending ─close→ closed          pending ─payment, wrong amount→ amount_mismatch ─payment→ paid
 *
 * A notification that reports a change already made (a retry under a new id, Alipay's
 * TRADE_FINISHED after TRADE_SUCCESS, a v2 and a v3 notify of one payment) changes nothing.
 */
import type { NotificationEffect } from '../providers/core/types'
import type { EventType, OrderState, OrderStatus } from '../storage/order'
import type { RefundDetails } from './events'

/** Refund outcomes already applied, so the same report twice changes nothing. */
export interface RefundLedger {
  has(outRefundNo: string, outcome: string): boolean
}

export interface EventDraft {
  type: EventType
  /** ISO-8601 UTC: when it happened per the provider, else when we learned it. */
  occurredAt: string
  refund: RefundDetails | null
}

export type Decision =
  | {
      verdict: 'accepted'
      next: OrderState
      events: EventDraft[]
      refundApplied: { outRefundNo: string; outcome: string; amount: number } | null
    }
  | { verdict: 'rejected'; reason: 'amount_mismatch' | 'refund_before_payment'; next: OrderState }

/** The buyer has paid (whatever was refunded since). */
export const PAID_STATES: ReadonlySet<OrderStatus> = new Set(['paid', 'partially_refunded', 'refunded'])
/** A payment may still arrive: worth asking the provider about. */
export const AWAITING_PAYMENT: ReadonlySet<OrderStatus> = new Set(['pending', 'amount_mismatch'])

function unchanged(state: OrderState): Decision {
  return { verdict: 'accepted', next: state, events: [], refundApplied: null }
}

export function decide(state: OrderState, effect: NotificationEffect, ledger: RefundLedger, now: string): Decision {
  switch (effect.kind) {
    case 'none':
      return unchanged(state)

    case 'payment': {
      if (PAID_STATES.has(state.status)) return unchanged(state)
      const wrongAmount = state.expectedAmount !== null && state.expectedAmount !== effect.amount
      const wrongCurrency = state.expectedCurrency !== null && state.expectedCurrency !== effect.currency
      if (wrongAmount || wrongCurrency) {
        // Closed orders keep their status; an unpaid one is flagged until a notification passes.
        const status = state.status === 'closed' ? state.status : 'amount_mismatch'
        return { verdict: 'rejected', reason: 'amount_mismatch', next: { ...state, status } }
      }
      // A payment reported after a close still means the money arrived: it wins.
      const next: OrderState = {
        ...state,
        status: 'paid',
        amount: effect.amount,
        currency: effect.currency,
        transactionId: effect.transactionId,
        paidAt: effect.paidAt,
      }
      return {
        verdict: 'accepted',
        next,
        events: [{ type: 'payment.succeeded', occurredAt: effect.paidAt ?? now, refund: null }],
        refundApplied: null,
      }
    }

    case 'close': {
      if (!AWAITING_PAYMENT.has(state.status)) return unchanged(state)
      const next: OrderState = { ...state, status: 'closed', transactionId: state.transactionId ?? effect.transactionId }
      return {
        verdict: 'accepted',
        next,
        events: [{ type: 'payment.closed', occurredAt: effect.closedAt ?? now, refund: null }],
        refundApplied: null,
      }
    }

    case 'refund': {
      // A refund implies a payment this order has not seen (its notification is late or was refused):
      // refused until the payment is known, so payment.succeeded always comes first.
      if (!PAID_STATES.has(state.status)) return { verdict: 'rejected', reason: 'refund_before_payment', next: state }
      const occurredAt = effect.refundedAt ?? now
      if (effect.outcome !== 'succeeded') {
        // Failed and closed refunds are reported once each and never move the order's status.
        if (ledger.has(effect.outRefundNo, effect.outcome)) return unchanged(state)
        const type: EventType = effect.outcome === 'failed' ? 'refund.failed' : 'refund.closed'
        const amount = effect.amount ?? 0
        const refund: RefundDetails = {
          out_refund_no: effect.outRefundNo,
          refund_id: effect.refundId,
          amount,
          total_refunded: state.refundedAmount,
        }
        return {
          verdict: 'accepted',
          next: state,
          events: [{ type, occurredAt, refund }],
          refundApplied: { outRefundNo: effect.outRefundNo, outcome: effect.outcome, amount },
        }
      }
      // WeChat states each refund's amount; Alipay states the cumulative sum, so the new part is the difference.
      let amount: number
      if (effect.cumulativeRefunded !== null) {
        amount = effect.cumulativeRefunded - state.refundedAmount
        if (amount <= 0) return unchanged(state)
      } else {
        if (ledger.has(effect.outRefundNo, 'succeeded')) return unchanged(state)
        amount = effect.amount ?? 0
      }
      const refundedAmount = state.refundedAmount + amount
      const orderAmount = state.amount ?? effect.orderAmount
      const next: OrderState = {
        ...state,
        status: refundedAmount >= orderAmount ? 'refunded' : 'partially_refunded',
        amount: orderAmount,
        currency: state.currency ?? effect.currency,
        transactionId: state.transactionId ?? effect.transactionId,
        refundedAmount,
      }
      const refund: RefundDetails = {
        out_refund_no: effect.outRefundNo,
        refund_id: effect.refundId,
        amount,
        total_refunded: refundedAmount,
      }
      return {
        verdict: 'accepted',
        next,
        events: [{ type: 'refund.succeeded', occurredAt, refund }],
        refundApplied: { outRefundNo: effect.outRefundNo, outcome: 'succeeded', amount },
      }
    }

    default: {
      const unreachable: never = effect
      throw new TypeError(`unknown effect ${String(unreachable)}`)
    }
  }
}
