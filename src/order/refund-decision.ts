/**
 * @module Refunds, as pure functions: given the paid order, the refunds it knows and a verified refund
 * report (a notification or a query answer), which refunds settle with which amounts and which events
 * the merchant gets. The invariants of contract.md ("Refunds"): each `out_refund_no` gets at most one
 * `refund.succeeded`, carrying that refund's own amount; the events of an order add up to its refunded
 * total, which never exceeds the order's amount.
 *
 * WeChat states each refund's amount. Alipay states the trade's running total (`refund_fee`): a refund's
 * own amount is that total less the refunds before it, which is certain only when the order of arrival
 * is. Otherwise the notification is accepted and held until the merchant's registered amount or a refund
 * query settles it; then, and only then, it is forwarded.
 */
import type { ChannelName, NotificationEffect } from '../providers/core/types'
import { blankRefund, type OrderState, type RefundRow } from '../storage/order'
import type { EventDraft } from './state-machine'

type RefundEffect = Extract<NotificationEffect, { kind: 'refund' }>

/** The refunds an order knows, and the refund events already emitted. */
export interface RefundBook {
  has(outRefundNo: string, outcome: string): boolean
  rows(): RefundRow[]
}

/** What a decision changed in the order's refunds. */
export interface RefundChange {
  /** Rows to save: every one that is new or changed. */
  rows: RefundRow[]
  /** Refund events emitted, so the same report twice changes nothing. */
  emitted: { outRefundNo: string; outcome: string; amount: number }[]
  /** Set when the reported refund is held: its own amount is in doubt. */
  held: boolean
}

export interface RefundContext {
  channel: ChannelName
  raw: Record<string, unknown>
  canQueryRefunds: boolean
  nowMs: number
  now: string
}

export type RefundDecision =
  | { verdict: 'accepted'; next: OrderState; events: EventDraft[]; change: RefundChange }
  | { verdict: 'rejected'; reason: 'refund_exceeds_amount' }

/** The order's refunds being decided on: copies, the changed ones remembered, settlements applied to the state. */
class RefundWork {
  readonly rows: Map<string, RefundRow>
  readonly events: EventDraft[] = []
  readonly emitted: RefundChange['emitted'] = []
  private readonly changed = new Set<string>()

  constructor(
    public state: OrderState,
    rows: RefundRow[],
  ) {
    this.rows = new Map(rows.map((row) => [row.outRefundNo, { ...row }]))
  }

  row(outRefundNo: string): RefundRow {
    return this.rows.get(outRefundNo) ?? blankRefund(outRefundNo)
  }

  put(row: RefundRow): void {
    this.rows.set(row.outRefundNo, row)
    this.changed.add(row.outRefundNo)
  }

  fits(amount: number, orderAmount: number): boolean {
    return this.state.refundedAmount + amount <= orderAmount
  }

  settle(row: RefundRow, amount: number, source: EventDraft['source'], occurredAt: string, orderAmount: number): void {
    const refundedAmount = this.state.refundedAmount + amount
    this.state = {
      ...this.state,
      status: refundedAmount >= orderAmount ? 'refunded' : 'partially_refunded',
      amount: orderAmount,
      refundedAmount,
    }
    const { statedAmount: _settledWith, ...settled } = row
    this.put({ ...settled, amount, status: 'succeeded', held: null, nextQueryAt: null })
    const refund = { out_refund_no: row.outRefundNo, refund_id: row.refundId, amount, total_refunded: refundedAmount }
    this.events.push({ type: 'refund.succeeded', occurredAt, refund, ...(source === undefined ? {} : { source }) })
    this.emitted.push({ outRefundNo: row.outRefundNo, outcome: 'succeeded', amount })
  }

  change(held: boolean): RefundChange {
    return { rows: [...this.changed].map((no) => this.rows.get(no)!), emitted: this.emitted, held }
  }
}

/** Applies one refund report to a paid order. */
export function decideRefund(state: OrderState, effect: RefundEffect, book: RefundBook, context: RefundContext): RefundDecision {
  const work = new RefundWork(state, book.rows())
  const orderAmount = state.amount ?? effect.orderAmount
  const row = work.row(effect.outRefundNo)
  const known: RefundRow = {
    ...row,
    refundId: row.refundId ?? effect.refundId,
    cumulative: row.cumulative ?? effect.cumulativeRefunded,
  }
  const occurredAt = effect.refundedAt ?? context.now

  if (effect.outcome !== 'succeeded') {
    // Failed and closed refunds are reported once each and never move the order's status; a refund that
    // succeeded (or closed) is final.
    if (row.status === 'succeeded' || row.status === 'closed' || book.has(effect.outRefundNo, effect.outcome)) {
      return accepted(work, false)
    }
    const amount = effect.amount ?? row.amount ?? row.registeredAmount ?? 0
    const closed = effect.outcome === 'closed'
    work.put({ ...known, status: closed ? 'closed' : 'failed', held: null, nextQueryAt: closed ? null : known.nextQueryAt })
    const refund = { out_refund_no: effect.outRefundNo, refund_id: known.refundId, amount, total_refunded: state.refundedAmount }
    work.events.push({ type: closed ? 'refund.closed' : 'refund.failed', occurredAt, refund })
    work.emitted.push({ outRefundNo: effect.outRefundNo, outcome: effect.outcome, amount })
    return accepted(work, false)
  }

  if (row.status === 'succeeded') {
    // Already settled (by its notification, a registration or a query): a late report changes nothing.
    if (known.refundId !== row.refundId || known.cumulative !== row.cumulative) work.put(known)
    return accepted(work, false)
  }

  if (effect.amount !== null) {
    // The refund's own amount, from the provider: it settles the refund (a held notification's event is sent now).
    if (!work.fits(effect.amount, orderAmount)) return { verdict: 'rejected', reason: 'refund_exceeds_amount' }
    if (known.cumulative !== null && heldBefore(known.cumulative, known.outRefundNo, [...work.rows.values()])) {
      // A refund that happened before it (a lower running total) is still held: this one waits for it, so the
      // merchant gets the two in the order they happened.
      work.put({ ...known, status: 'pending', held: heldReport(known, effect, context), statedAmount: effect.amount })
      return accepted(work, true)
    }
    const source = known.held === null ? undefined : { channel: known.held.channel, raw: known.held.raw }
    work.settle(known, effect.amount, source, known.held?.refundedAt ?? occurredAt, orderAmount)
    settleHeld(work, context.canQueryRefunds, context.now)
    return accepted(work, false)
  }

  // Alipay: only the trade's running total. Above the order's amount it is wrong whatever came before.
  if (effect.cumulativeRefunded === null) throw new TypeError('a refund states its own amount or the running total')
  if (effect.cumulativeRefunded > orderAmount) return { verdict: 'rejected', reason: 'refund_exceeds_amount' }
  work.put({ ...known, status: 'pending', held: heldReport(known, effect, context) })
  settleHeld(work, context.canQueryRefunds, context.now)
  const stillHeld = work.row(effect.outRefundNo).status !== 'succeeded'
  if (stillHeld && context.canQueryRefunds) {
    // Ask the provider about this refund at once: its answer states the refund's own amount.
    const waiting = work.row(effect.outRefundNo)
    if (waiting.nextQueryAt === null || waiting.nextQueryAt > context.nowMs) work.put({ ...waiting, nextQueryAt: context.nowMs })
  }
  return accepted(work, stillHeld)
}

/** Settles held refunds a registration made certain; nothing else changes. */
export function settleRefunds(
  state: OrderState,
  rows: RefundRow[],
  canQueryRefunds: boolean,
  now: string,
): { next: OrderState; events: EventDraft[]; change: RefundChange } {
  const work = new RefundWork(state, rows)
  settleHeld(work, canQueryRefunds, now)
  return { next: work.state, events: work.events, change: work.change(false) }
}

/** The report a held refund is forwarded with once settled: the one it was first held with, else this one. */
function heldReport(known: RefundRow, effect: RefundEffect, context: RefundContext): NonNullable<RefundRow['held']> {
  return known.held ?? { channel: context.channel, raw: context.raw, refundId: effect.refundId, refundedAt: effect.refundedAt }
}

/** An Alipay refund accepted and held: pending, with the running total its notification reported. */
function isHeld(row: RefundRow): boolean {
  return row.status === 'pending' && row.held !== null && row.cumulative !== null
}

function accepted(work: RefundWork, held: boolean): RefundDecision {
  return { verdict: 'accepted', next: work.state, events: work.events, change: work.change(held) }
}

/** Held refunds, lowest running total first, settled while one of them becomes certain. */
function settleHeld(work: RefundWork, canQueryRefunds: boolean, now: string): void {
  const orderAmount = work.state.amount
  if (orderAmount === null) return
  for (let progress = true; progress; ) {
    progress = false
    const held = [...work.rows.values()].filter(isHeld).sort((a, b) => a.cumulative! - b.cumulative!)
    for (const row of held) {
      const amount = certainAmount(row, [...work.rows.values()], work.state, canQueryRefunds)
      if (amount === null || !work.fits(amount, orderAmount)) continue
      work.settle(row, amount, { channel: row.held!.channel, raw: row.held!.raw }, row.held!.refundedAt ?? now, orderAmount)
      progress = true
      break
    }
  }
}

/**
 * The own amount of a held Alipay refund, when it is certain; null while in doubt.
 * - Stated by a refund query while a refund before it was held: that amount, once that one settled.
 * - Registered: the merchant's amount, if it fits what Alipay's running totals allow.
 * - Else, when the merchant's keys allow a refund query: in doubt until the query answers, or its queries end.
 * - Else the running total less the settled refunds before it, when the order of arrival leaves no room
 *   for another: no unsettled refund could come before it, and no settled one after it was settled
 *   without it.
 */
function certainAmount(refund: RefundRow, rows: RefundRow[], state: OrderState, canQueryRefunds: boolean): number | null {
  const total = refund.cumulative!
  // Its queries ended unanswered (the keys no longer allow them, or the week is over).
  const queriesEnded = refund.queriesMade > 0 && refund.nextQueryAt === null
  if (refund.statedAmount !== undefined) {
    // Once its own queries end, it no longer waits for one before it that may never settle (order is lost then).
    return heldBefore(total, refund.outRefundNo, rows) && !queriesEnded ? null : refund.statedAmount
  }
  const others = rows.filter((row) => row.outRefundNo !== refund.outRefundNo)
  const settled = others.filter((row) => row.status === 'succeeded')
  const settledBefore = settled
    .filter((row) => row.cumulative !== null && row.cumulative < total)
    .reduce((sum, row) => sum + row.amount!, 0)
  if (refund.registeredAmount !== null) {
    // As for a stated amount: a refund held before it (a lower running total) settles first, so the merchant gets
    // the two in the order they happened; once its own queries end, it no longer waits.
    if (heldBefore(total, refund.outRefundNo, rows) && !queriesEnded) return null
    const highest = Math.max(total, ...others.map((row) => row.cumulative ?? 0))
    const amount = refund.registeredAmount
    if (amount <= total - settledBefore && state.refundedAmount + amount <= highest) return amount
    // A registration the running totals refute waits for a query; once they ended, the order of arrival decides.
    if (!queriesEnded) return null
  }
  // Once its queries ended unanswered, the order of arrival decides.
  if (canQueryRefunds && !queriesEnded) return null
  if (settled.some((row) => row.cumulative === null)) return null
  if (others.some((row) => row.status === 'pending' && (row.cumulative === null || row.cumulative < total))) return null
  const next = settled.filter((row) => row.cumulative! >= total).sort((a, b) => a.cumulative! - b.cumulative!)[0]
  if (next !== undefined && next.cumulative! - next.amount! < total) return null
  const amount = total - settledBefore
  return amount > 0 ? amount : null
}

/** Whether another held Alipay refund has a lower running total than `total`: it happened first. */
function heldBefore(total: number, outRefundNo: string, rows: RefundRow[]): boolean {
  return rows.some((row) => row.outRefundNo !== outRefundNo && isHeld(row) && row.cumulative! < total)
}
