/**
 * @module Bounded order storage: once an order has nothing left to do (no delivery pending, no query planned, no
 * refund held) and nothing has changed for `ORDER_RETENTION_DAYS` (longer than the providers' refund windows), its
 * object keeps only a tombstone (`OrderStore.compact`): the order's state, its refunds and the accepted notifications'
 * ids. A late duplicate is then still a duplicate, and a late refund still applies once. D1 keeps the order's and its
 * deliveries' rows.
 */
import { isoNow } from '../lib/ids'
import { log } from '../lib/log'
import type { OrderContext } from './context'

const DAY_MS = 24 * 3600_000
/** When the var is missing or unreadable: 400 days (WeChat Pay takes refunds for a year). */
const DEFAULT_RETENTION_DAYS = 400

export function retentionMs(env: Env): number {
  const days = Number.parseFloat(env.ORDER_RETENTION_DAYS ?? '')
  return (Number.isFinite(days) && days >= 0 ? days : DEFAULT_RETENTION_DAYS) * DAY_MS
}

/**
 * Compacts the order when its time has come; otherwise returns when it will (epoch ms), or null while it has work
 * left (the alarm that does that work comes back here).
 */
export function compactWhenDue(ctx: OrderContext, now: number): number | null {
  const { store } = ctx
  const order = store.order.get()
  if (order === null) return null
  const busy =
    store.deliveries.headOfLine() !== null ||
    (store.reconciliation.get()?.nextQueryAt ?? null) !== null ||
    store.refunds.rows().some((r) => r.nextQueryAt !== null || r.held !== null)
  if (busy) return null
  const lastChange = [order.updatedAt, ...store.deliveries.all().map((d) => d.updatedAt)].sort().at(-1)!
  const compactedAt = store.compactedAt()
  if (compactedAt !== null && compactedAt >= lastChange) return null
  const due = Date.parse(lastChange) + retentionMs(ctx.env)
  if (now < due) return due
  store.compact(isoNow(now))
  log('info', { event: 'order.compacted', merchant_id: order.merchantId, out_trade_no: order.outTradeNo })
  return null
}
