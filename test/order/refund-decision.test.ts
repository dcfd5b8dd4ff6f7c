import { describe, expect, it } from 'vitest'
import { decideRefund, settleRefunds, type RefundBook, type RefundContext } from '../../src/order/refund-decision'
import type { EventDraft } from '../../src/order/state-machine'
import type { NotificationEffect } from '../../src/providers/core/types'
import { blankRefund, type OrderState, type RefundRow } from '../../src/storage/order'

const NOW = '2026-11-25T08:00:00.000Z'
const NOW_MS = Date.parse(NOW)
const paid: OrderState = {
  status: 'paid',
  expectedAmount: null,
  expectedCurrency: null,
  amount: 100,
  currency: 'CNY',
  transactionId: '4200001',
  paidAt: '2026-11-25T07:59:58Z',
  refundedAmount: 0,
}
type RefundEffect = Extract<NotificationEffect, { kind: 'refund' }>

const wechat = (no: string, amount: number, outcome: RefundEffect['outcome'] = 'succeeded'): RefundEffect => ({
  kind: 'refund',
  outcome,
  outRefundNo: no,
  refundId: `RF-${no}`,
  transactionId: '4200001',
  amount,
  cumulativeRefunded: null,
  orderAmount: 100,
  currency: 'CNY',
  refundedAt: null,
  payment: null,
})
const alipay = (no: string, cumulative: number): RefundEffect => ({
  ...wechat(no, 0),
  refundId: null,
  amount: null,
  cumulativeRefunded: cumulative,
})

/** The refunds as the order object keeps them between decisions. */
class Book implements RefundBook {
  readonly kept = new Map<string, RefundRow>()
  private readonly emitted = new Set<string>()
  has(no: string, outcome: string): boolean {
    return this.emitted.has(`${no}/${outcome}`)
  }
  rows(): RefundRow[] {
    return [...this.kept.values()]
  }
  register(no: string, amount: number): void {
    this.kept.set(no, { ...(this.kept.get(no) ?? blankRefund(no)), registeredAmount: amount })
  }
  keep(change: { rows: RefundRow[]; emitted: { outRefundNo: string; outcome: string }[] }): void {
    for (const row of change.rows) this.kept.set(row.outRefundNo, row)
    for (const e of change.emitted) this.emitted.add(`${e.outRefundNo}/${e.outcome}`)
  }
}

function context(canQueryRefunds = false): RefundContext {
  return { channel: 'alipay', raw: { source: 'test' }, canQueryRefunds, nowMs: NOW_MS, now: NOW }
}

/** A refund query's answer for Alipay refund `no`: its own amount, no running total. */
const queried = (no: string, amount: number): RefundEffect => ({ ...alipay(no, 0), amount, cumulativeRefunded: null })

/** The decision, which must have accepted the report. */
function acceptedDecision(d: ReturnType<typeof decideRefund>): Extract<ReturnType<typeof decideRefund>, { verdict: 'accepted' }> {
  if (d.verdict !== 'accepted') throw new Error(`rejected ${d.reason}`)
  return d
}

/** The rows, the named refunds' queries ended unanswered (asked, nothing planned). */
const withQueriesEnded = (rows: RefundRow[], ...nos: string[]) =>
  rows.map((row) => (nos.includes(row.outRefundNo) ? { ...row, queriesMade: 3, nextQueryAt: null } : row))

/** Each refund event's refund number and own amount. */
const settledAmounts = (events: readonly EventDraft[]) => events.map((e) => [e.refund!.out_refund_no, e.refund!.amount])

/** Applies the effects in turn; returns the final state and every event's refund. */
function apply(book: Book, effects: RefundEffect[], canQuery = false) {
  let state = paid
  const refunds: { type: string; no: string; amount: number }[] = []
  for (const effect of effects) {
    const d = decideRefund(state, effect, book, context(canQuery))
    if (d.verdict === 'rejected') throw new Error(`rejected ${d.reason}`)
    book.keep(d.change)
    state = d.next
    for (const e of d.events) refunds.push({ type: e.type, no: e.refund!.out_refund_no, amount: e.refund!.amount })
  }
  return { state, refunds }
}

describe('refund decisions', () => {
  it('refuses a WeChat refund that would take the refunded total above the order amount, on its own or with others', () => {
    expect(decideRefund(paid, wechat('R1', 101), new Book(), context())).toEqual({ verdict: 'rejected', reason: 'refund_exceeds_amount' })
    const book = new Book()
    const { state } = apply(book, [wechat('R1', 60)])
    expect(decideRefund(state, wechat('R2', 41), book, context())).toEqual({ verdict: 'rejected', reason: 'refund_exceeds_amount' })
  })

  it('refuses an Alipay running total above the order amount', () => {
    expect(decideRefund(paid, alipay('A', 150), new Book(), context())).toEqual({ verdict: 'rejected', reason: 'refund_exceeds_amount' })
  })

  it('holds an Alipay refund when the merchant can query, and asks about it now', () => {
    const d = decideRefund(paid, alipay('A', 30), new Book(), context(true))
    if (d.verdict !== 'accepted') throw new Error('rejected')
    expect(d.events).toEqual([])
    expect(d.next).toEqual(paid)
    expect(d.change.held).toBe(true)
    expect(d.change.rows).toMatchObject([
      { outRefundNo: 'A', status: 'pending', cumulative: 30, nextQueryAt: NOW_MS, held: { channel: 'alipay' } },
    ])
  })

  it('settles an out-of-order pair with the registered amounts, each once', () => {
    const book = new Book()
    book.register('A', 30)
    book.register('B', 20)
    const { state, refunds } = apply(book, [alipay('B', 50), alipay('A', 30), alipay('B', 50)])
    expect(refunds).toEqual([
      { type: 'refund.succeeded', no: 'B', amount: 20 },
      { type: 'refund.succeeded', no: 'A', amount: 30 },
    ])
    expect(state).toMatchObject({ refundedAmount: 50, status: 'partially_refunded' })
  })

  it('holds the later refund while an earlier one is registered but not notified, and settles both once it is', () => {
    const book = new Book()
    book.register('A', 30)
    const held = apply(book, [alipay('B', 50)])
    expect(held.refunds).toEqual([])
    const { refunds } = apply(book, [alipay('A', 30)])
    // A's registration settles A; with A known, B is the difference of the running totals.
    expect(refunds).toEqual([
      { type: 'refund.succeeded', no: 'A', amount: 30 },
      { type: 'refund.succeeded', no: 'B', amount: 20 },
    ])
  })

  it('leaves an earlier refund held when a later one was already taken as the whole difference', () => {
    const book = new Book()
    const first = apply(book, [alipay('B', 50)])
    expect(first.refunds).toEqual([{ type: 'refund.succeeded', no: 'B', amount: 50 }])
    const d = decideRefund(first.state, alipay('A', 30), book, context())
    if (d.verdict !== 'accepted') throw new Error('rejected')
    // Forwarding A now would make the events add up to more than Alipay refunded: it waits for a registration or a query.
    expect(d.events).toEqual([])
    expect(d.change.held).toBe(true)
  })

  it('a registration releases a held refund, with the events in the right order', () => {
    const book = new Book()
    book.register('A', 30)
    apply(book, [alipay('B', 50)])
    book.register('B', 20)
    const settled = settleRefunds(paid, book.rows(), false, NOW)
    expect(settled.events.map((e) => [e.refund!.out_refund_no, e.refund!.amount, e.refund!.total_refunded])).toEqual([['B', 20, 20]])
    expect(settled.events[0]!.source).toEqual({ channel: 'alipay', raw: { source: 'test' } })
  })

  it('when a held refund’s queries end, it settles by the order of arrival; one still being asked about waits', () => {
    const book = new Book()
    // A (running total 30) and B (50), both held for a query: the merchant can query its refunds.
    const { refunds } = apply(book, [alipay('A', 30), alipay('B', 50)], true)
    expect(refunds).toEqual([])
    const queriesEnded = (...nos: string[]) => withQueriesEnded(book.rows(), ...nos)
    // A's queries ended unanswered, B's go on: A gets 30, B still waits for its answer.
    const aOnly = settleRefunds(paid, queriesEnded('A'), true, NOW)
    expect(settledAmounts(aOnly.events)).toEqual([['A', 30]])
    // Both ended: B's own amount is what A's left, 20.
    const both = settleRefunds(paid, queriesEnded('A', 'B'), true, NOW)
    expect(settledAmounts(both.events)).toEqual([
      ['A', 30],
      ['B', 20],
    ])
  })

  it('a refund whose queries ended settles once the one before it is answered', () => {
    const book = new Book()
    apply(book, [alipay('A', 30), alipay('B', 50)], true)
    // B's queries ended while A's go on: B waits behind A (30 of its 50 may be A's).
    for (const row of withQueriesEnded(book.rows(), 'B')) book.kept.set(row.outRefundNo, row)
    expect(settleRefunds(paid, book.rows(), true, NOW).events).toEqual([])
    // A's query answers with its own amount: A settles, and B with what is left.
    const answered = acceptedDecision(decideRefund(paid, queried('A', 30), book, context(true)))
    expect(settledAmounts(answered.events)).toEqual([
      ['A', 30],
      ['B', 20],
    ])
  })

  it('a refund whose query states its amount waits for a held one before it; once its own queries end, it waits no more', () => {
    const book = new Book()
    apply(book, [alipay('A', 30), alipay('B', 50)], true)
    // B's query answers 20 while A is still held: B waits, so the merchant gets A first.
    const stated = acceptedDecision(decideRefund(paid, queried('B', 20), book, context(true)))
    expect(stated.events).toEqual([])
    book.keep(stated.change)
    expect(book.kept.get('B')).toMatchObject({ status: 'pending', statedAmount: 20 })
    // A's answer: A, then B with its stated amount.
    const answered = acceptedDecision(decideRefund(paid, queried('A', 30), book, context(true)))
    expect(settledAmounts(answered.events)).toEqual([
      ['A', 30],
      ['B', 20],
    ])
    expect(answered.change.rows.find((row) => row.outRefundNo === 'B')).not.toHaveProperty('statedAmount')
    // Had A never been answered: once B's own queries end, B settles with its stated amount all the same.
    const ended = withQueriesEnded(book.rows(), 'B')
    expect(settledAmounts(settleRefunds(paid, ended, true, NOW).events)).toEqual([['B', 20]])
  })

  it('reports an abnormal refund once, then its success; a closed refund is final', () => {
    const book = new Book()
    const { refunds, state } = apply(book, [wechat('R1', 40, 'failed'), wechat('R1', 40, 'failed'), wechat('R1', 40)])
    expect(refunds).toEqual([
      { type: 'refund.failed', no: 'R1', amount: 40 },
      { type: 'refund.succeeded', no: 'R1', amount: 40 },
    ])
    expect(state.refundedAmount).toBe(40)
    const closed = apply(book, [wechat('R2', 10, 'closed'), wechat('R2', 10, 'closed')])
    expect(closed.refunds).toEqual([{ type: 'refund.closed', no: 'R2', amount: 10 }])
  })

  it('settles a held refund with the amount a query states, forwarding the held notification’s own fields', () => {
    const book = new Book()
    apply(book, [alipay('A', 30)], true)
    const d = decideRefund(paid, { ...wechat('A', 30), refundId: null }, book, { ...context(true), raw: { from: 'query' } })
    if (d.verdict !== 'accepted') throw new Error('rejected')
    expect(d.events).toMatchObject([
      { type: 'refund.succeeded', refund: { out_refund_no: 'A', amount: 30 }, source: { raw: { source: 'test' } } },
    ])
  })
})
