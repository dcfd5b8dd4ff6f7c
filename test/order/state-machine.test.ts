import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { NotificationEffect } from '../../src/providers/core/types'
import { decide as decideWith, type DecideContext, type RefundBook } from '../../src/order/state-machine'
import { NEW_ORDER_STATE, type OrderState, type RefundRow } from '../../src/storage/order'

const NOW = '2026-11-25T08:00:00.000Z'
const pending: OrderState = NEW_ORDER_STATE
/** The refunds an order knows, as the order object would keep them between decisions. */
class Book implements RefundBook {
  private readonly kept = new Map<string, RefundRow>()
  private readonly emitted = new Set<string>()
  has(no: string, outcome: string): boolean {
    return this.emitted.has(`${no}/${outcome}`)
  }
  rows(): RefundRow[] {
    return [...this.kept.values()]
  }
  keep(d: ReturnType<typeof decideWith>): void {
    if (d.verdict !== 'accepted' || d.refunds === null) return
    for (const row of d.refunds.rows) this.kept.set(row.outRefundNo, row)
    for (const e of d.refunds.emitted) this.emitted.add(`${e.outRefundNo}/${e.outcome}`)
  }
}
const noRefunds: RefundBook = { has: () => false, rows: () => [] }
const CONTEXT: DecideContext = {
  channel: 'wechatpay.v3',
  raw: {},
  canQueryRefunds: false,
  confirmPayments: false,
  nowMs: Date.parse(NOW),
}
const decide = (state: OrderState, effect: NotificationEffect, book: RefundBook, now: string) =>
  decideWith(state, effect, book, now, CONTEXT)
const payment = (amount: number, currency = 'CNY'): NotificationEffect => ({
  kind: 'payment',
  amount,
  currency,
  transactionId: '4200001',
  paidAt: '2026-11-25T07:59:58Z',
})
const refund = (over: Partial<Extract<NotificationEffect, { kind: 'refund' }>>): NotificationEffect => ({
  kind: 'refund',
  outcome: 'succeeded',
  outRefundNo: 'R1',
  refundId: 'RF1',
  transactionId: '4200001',
  amount: 30,
  cumulativeRefunded: null,
  orderAmount: 100,
  currency: 'CNY',
  refundedAt: '2026-11-25T09:00:00Z',
  payment: null,
  ...over,
})

function accepted(d: ReturnType<typeof decide>) {
  if (d.verdict !== 'accepted') throw new Error(`expected accepted, got ${d.verdict}`)
  return d
}

describe('order state machine', () => {
  it('pays a pending order and emits one payment.succeeded with the provider time', () => {
    const d = accepted(decide(pending, payment(100), noRefunds, NOW))
    expect(d.next).toMatchObject({ status: 'paid', amount: 100, currency: 'CNY', transactionId: '4200001', paidAt: '2026-11-25T07:59:58Z' })
    expect(d.events).toEqual([{ type: 'payment.succeeded', occurredAt: '2026-11-25T07:59:58Z', refund: null }])
  })

  it('changes nothing when a paid order is reported paid again (TRADE_FINISHED, v2 after v3)', () => {
    const paid = accepted(decide(pending, payment(100), noRefunds, NOW)).next
    const again = accepted(decide(paid, payment(100), noRefunds, NOW))
    expect(again.next).toEqual(paid)
    expect(again.events).toEqual([])
  })

  it('flags amount_mismatch against the registered amount and forwards nothing', () => {
    const registered = { ...pending, expectedAmount: 100, expectedCurrency: 'CNY' }
    const d = decide(registered, payment(1), noRefunds, NOW)
    expect(d).toEqual({ verdict: 'rejected', reason: 'amount_mismatch', next: { ...registered, status: 'amount_mismatch' } })
    expect(decide(registered, payment(100, 'USD'), noRefunds, NOW).verdict).toBe('rejected')
  })

  it('lets a notification that passes the amount check pay an amount_mismatch order', () => {
    const flagged: OrderState = { ...pending, status: 'amount_mismatch', expectedAmount: 1, expectedCurrency: 'CNY' }
    const d = accepted(decide(flagged, payment(1), noRefunds, NOW))
    expect(d.next.status).toBe('paid')
    expect(d.events.map((e) => e.type)).toEqual(['payment.succeeded'])
  })

  it('closes only an unpaid order', () => {
    const d = accepted(
      decide(pending, { kind: 'close', transactionId: null, closedAt: '2026-11-25T10:00:00Z', amount: 8888 }, noRefunds, NOW),
    )
    expect(d.next.status).toBe('closed')
    expect(d.events.map((e) => e.type)).toEqual(['payment.closed'])
    const paid = accepted(decide(pending, payment(100), noRefunds, NOW)).next
    expect(accepted(decide(paid, { kind: 'close', transactionId: null, closedAt: null, amount: null }, noRefunds, NOW)).events).toEqual([])
  })

  it("gives a closed order's event the amount known of it: the registered one, else the closed trade's", () => {
    const close = { kind: 'close' as const, transactionId: null, closedAt: null, amount: 8888 }
    expect(accepted(decide(pending, close, noRefunds, NOW)).events.map((e) => e.amount)).toEqual([8888])
    const registered = { ...pending, expectedAmount: 500 }
    expect(accepted(decide(registered, close, noRefunds, NOW)).events.map((e) => e.amount)).toEqual([500])
    expect(accepted(decide(pending, { ...close, amount: null }, noRefunds, NOW)).events.map((e) => e.amount)).toEqual([null])
  })

  it('refunds partially, then fully, with per-refund and cumulative amounts', () => {
    const paid = accepted(decide(pending, payment(100), noRefunds, NOW)).next
    const first = accepted(decide(paid, refund({ outRefundNo: 'R1', amount: 30 }), noRefunds, NOW))
    expect(first.next).toMatchObject({ status: 'partially_refunded', refundedAmount: 30 })
    expect(first.events[0]!.refund).toEqual({ out_refund_no: 'R1', refund_id: 'RF1', amount: 30, total_refunded: 30 })
    const second = accepted(decide(first.next, refund({ outRefundNo: 'R2', amount: 70 }), noRefunds, NOW))
    expect(second.next).toMatchObject({ status: 'refunded', refundedAmount: 100 })
  })

  it('reports the new part of Alipay cumulative refunds arriving in order, and ignores a repeat', () => {
    const book = new Book()
    const paid = accepted(decide(pending, payment(100), noRefunds, NOW)).next
    const alipayRefund = (no: string, cumulative: number) =>
      refund({ outRefundNo: no, amount: null, cumulativeRefunded: cumulative, refundId: null })
    const first = accepted(decide(paid, alipayRefund('A', 40), book, NOW))
    book.keep(first)
    expect(first.events[0]!.refund).toMatchObject({ out_refund_no: 'A', amount: 40, total_refunded: 40 })
    const second = accepted(decide(first.next, alipayRefund('B', 100), book, NOW))
    book.keep(second)
    expect(second.events[0]!.refund).toMatchObject({ out_refund_no: 'B', amount: 60, total_refunded: 100 })
    expect(second.next.status).toBe('refunded')
    expect(accepted(decide(second.next, alipayRefund('B', 100), book, NOW)).events).toEqual([])
  })

  it('refuses a refund before the payment is known when it carries no payment facts, so payment.succeeded always comes first', () => {
    expect(decide(pending, refund({}), noRefunds, NOW)).toEqual({ verdict: 'rejected', reason: 'refund_before_payment', next: pending })
    const flagged: OrderState = { ...pending, status: 'amount_mismatch', expectedAmount: 1 }
    expect(decide(flagged, refund({ outcome: 'failed' }), noRefunds, NOW).verdict).toBe('rejected')
  })

  it('does not apply the same WeChat refund twice', () => {
    const book = new Book()
    const paid = accepted(decide(pending, payment(100), noRefunds, NOW)).next
    const first = accepted(decide(paid, refund({}), book, NOW))
    book.keep(first)
    expect(first.events).toHaveLength(1)
    expect(accepted(decide(first.next, refund({}), book, NOW)).events).toEqual([])
  })

  it('reports failed and closed refunds without changing the status', () => {
    const paid = accepted(decide(pending, payment(100), noRefunds, NOW)).next
    const failed = accepted(decide(paid, refund({ outcome: 'failed' }), noRefunds, NOW))
    expect(failed.next).toEqual(paid)
    expect(failed.events.map((e) => e.type)).toEqual(['refund.failed'])
    const closed = accepted(decide(paid, refund({ outcome: 'closed' }), noRefunds, NOW))
    expect(closed.events.map((e) => e.type)).toEqual(['refund.closed'])
  })

  it('a refund whose merchant is named outside what was signed applies only to the payment it names', () => {
    const paid = accepted(decide(pending, payment(100), noRefunds, NOW)).next
    const unsigned = { recipientUnsigned: true as const }
    expect(decide(paid, refund({ ...unsigned, transactionId: '4200999' }), noRefunds, NOW)).toMatchObject({
      verdict: 'rejected',
      reason: 'transaction_mismatch',
      next: paid,
    })
    expect(decide(paid, refund({ ...unsigned, transactionId: null }), noRefunds, NOW)).toMatchObject({ reason: 'transaction_mismatch' })
    expect(accepted(decide(paid, refund(unsigned), noRefunds, NOW)).events.map((e) => e.type)).toEqual(['refund.succeeded'])
    // Signed for its merchant (every other refund), another transaction is not this rule's business.
    expect(accepted(decide(paid, refund({ transactionId: '4200999' }), noRefunds, NOW)).events).toHaveLength(1)
  })

  it('never refunds more than once per change and never lowers the refunded total (property)', () => {
    const effects = fc.oneof(
      fc.integer({ min: 1, max: 1000 }).map((n) => payment(n)),
      fc
        .record({ cumulative: fc.integer({ min: 0, max: 1000 }) })
        .map(({ cumulative }) => refund({ amount: null, cumulativeRefunded: cumulative })),
      fc.constant<NotificationEffect>({ kind: 'close', transactionId: null, closedAt: null, amount: null }),
      fc.constant<NotificationEffect>({ kind: 'none', reason: 'FAIL' }),
    )
    fc.assert(
      fc.property(fc.array(effects, { maxLength: 20 }), (sequence) => {
        let state = pending
        for (const effect of sequence) {
          const d = decide(state, effect, noRefunds, NOW)
          expect(d.next.refundedAmount).toBeGreaterThanOrEqual(state.refundedAmount)
          if (d.verdict === 'accepted') {
            expect(d.events.length).toBeLessThanOrEqual(1)
            // Applying the same report again is a no-op.
            const again = decide(d.next, effect, noRefunds, NOW)
            if (again.verdict === 'accepted' && effect.kind !== 'refund') expect(again.events).toEqual([])
          }
          state = d.next
        }
      }),
    )
  })
})
