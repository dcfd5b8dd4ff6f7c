/**
 * @module The order state machine, as one pure function: given the order as stored and what a
 * verified notification reports, what changes and which events the merchant gets.
 *
 *   pending ─payment→ paid ─refund→ partially_refunded ─refund→ refunded
 *   pending ─close→ closed          pending ─payment, wrong amount→ amount_mismatch ─payment→ paid
 *
 * A notification that reports a change already made (a retry under a new id, Alipay's
 * TRADE_FINISHED after TRADE_SUCCESS, a v2 and a v3 notify of one payment) changes nothing. Refunds
 * are decided in `refund-decision.ts`; a refund that proves a payment the order has not seen pays it first.
 */
import type { ChannelName, NotificationEffect, PaymentFacts } from '../providers/core/types'
import type { EventType, OrderState, OrderStatus } from '../storage/order'
import type { RefundDetails } from './events'
import { decideRefund, type RefundBook, type RefundChange } from './refund-decision'

export type { RefundBook, RefundChange } from './refund-decision'

export interface EventDraft {
  type: Exclude<EventType, 'provider.notification'>
  /** ISO-8601 UTC: when it happened per the provider, else when we learned it. */
  occurredAt: string
  refund: RefundDetails | null
  /** The report the event comes from, when not the one being applied (a held refund notification). */
  source?: { channel: ChannelName; raw: Record<string, unknown> }
  /** `data.amount` when the order has no amount of its own (an unpaid order closed): what was known of it. */
  amount?: number | null
  /** `data.currency` with that amount: the currency it is in, when known. */
  currency?: string | null
}

export type RejectionReason = 'amount_mismatch' | 'refund_before_payment' | 'refund_exceeds_amount' | 'transaction_mismatch'

export type Decision =
  | {
      verdict: 'accepted'
      next: OrderState
      events: EventDraft[]
      /** What a refund report changed in the order's refunds, or null. */
      refunds: RefundChange | null
    }
  | { verdict: 'rejected'; reason: RejectionReason; next: OrderState }

/** What the order object knows besides its state, for a decision. */
export interface DecideContext {
  /** The report being applied: where its events come from. */
  channel: ChannelName
  raw: Record<string, unknown>
  /** The merchant's keys allow a refund query (an Alipay refund's own amount in doubt is asked, not guessed). */
  canQueryRefunds: boolean
  /** The merchant wants payments confirmed by an order query: a refund's payment facts do not pay the order. */
  confirmPayments: boolean
  nowMs: number
}

/** The buyer has paid (whatever was refunded since). */
export const PAID_STATES: ReadonlySet<OrderStatus> = new Set(['paid', 'partially_refunded', 'refunded'])
/** A payment may still arrive: worth asking the provider about. */
export const AWAITING_PAYMENT: ReadonlySet<OrderStatus> = new Set(['pending', 'amount_mismatch'])

function unchanged(state: OrderState): Decision {
  return { verdict: 'accepted', next: state, events: [], refunds: null }
}

/** A payment, checked against the registered amount; a paid order stays as it is. */
function decidePayment(state: OrderState, payment: PaymentFacts, now: string): Decision {
  if (PAID_STATES.has(state.status)) return unchanged(state)
  const wrongAmount = state.expectedAmount !== null && state.expectedAmount !== payment.amount
  const currency = payment.currencyUnstated === true ? (state.expectedCurrency ?? payment.currency) : payment.currency
  const wrongCurrency = state.expectedCurrency !== null && state.expectedCurrency !== currency
  if (wrongAmount || wrongCurrency) {
    // Closed orders keep their status; an unpaid one is flagged until a notification passes.
    const status = state.status === 'closed' ? state.status : 'amount_mismatch'
    return { verdict: 'rejected', reason: 'amount_mismatch', next: { ...state, status } }
  }
  // A payment reported after a close still means the money arrived: it wins.
  const next: OrderState = {
    ...state,
    status: 'paid',
    amount: payment.amount,
    currency,
    transactionId: payment.transactionId,
    paidAt: payment.paidAt,
  }
  return {
    verdict: 'accepted',
    next,
    events: [{ type: 'payment.succeeded', occurredAt: payment.paidAt ?? now, refund: null }],
    refunds: null,
  }
}

/**
 * What a `payment.closed` says of the money: an unpaid order has no paid amount, so the registered one (in the
 * registered currency), else the closed trade's (in its own).
 */
function closedAmount(state: OrderState, close: Extract<NotificationEffect, { kind: 'close' }>): Pick<EventDraft, 'amount' | 'currency'> {
  if (state.amount !== null) return { amount: state.amount, currency: state.currency }
  if (state.expectedAmount !== null) return { amount: state.expectedAmount, currency: state.expectedCurrency }
  return { amount: close.amount, currency: close.currency ?? null }
}

export function decide(state: OrderState, effect: NotificationEffect, book: RefundBook, now: string, context: DecideContext): Decision {
  switch (effect.kind) {
    case 'none':
    // Provider notifications about no order never reach an order object.
    case 'other':
      return unchanged(state)

    // Never stored as one: each of its sub-orders reaches its own order object (`http/notify.ts`).
    case 'combined':
      throw new TypeError('a combined payment reaches each sub-order as a notification of its own')

    case 'payment':
      return decidePayment(state, effect, now)

    case 'close': {
      if (!AWAITING_PAYMENT.has(state.status)) return unchanged(state)
      const next: OrderState = { ...state, status: 'closed', transactionId: state.transactionId ?? effect.transactionId }
      return {
        verdict: 'accepted',
        next,
        events: [{ type: 'payment.closed', occurredAt: effect.closedAt ?? now, refund: null, ...closedAmount(state, effect) }],
        refunds: null,
      }
    }

    case 'refund': {
      let paid = state
      let before: EventDraft[] = []
      // A refund whose merchant is named outside what was signed may only be of the payment this order recorded.
      if (effect.recipientUnsigned === true && state.transactionId !== null && state.transactionId !== effect.transactionId) {
        return { verdict: 'rejected', reason: 'transaction_mismatch', next: state }
      }
      if (!PAID_STATES.has(state.status)) {
        // A refund of a payment this order has not seen: when it carries the payment's facts, they pay the
        // order first (payment.succeeded always comes first); otherwise it waits for the payment.
        if (effect.payment === null || context.confirmPayments) return { verdict: 'rejected', reason: 'refund_before_payment', next: state }
        const payment = decidePayment(state, effect.payment, now)
        if (payment.verdict === 'rejected') return payment
        paid = payment.next
        before = payment.events
      }
      const refund = decideRefund(paid, effect, book, { ...context, now })
      if (refund.verdict === 'rejected') return { verdict: 'rejected', reason: refund.reason, next: state }
      return { verdict: 'accepted', next: refund.next, events: [...before, ...refund.events], refunds: refund.change }
    }

    default: {
      const unreachable: never = effect
      throw new TypeError(`unknown effect ${String(unreachable)}`)
    }
  }
}
