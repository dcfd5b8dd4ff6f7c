/**
 * @module Bounded object storage: once an order has nothing left to do (no delivery pending, no query planned, no
 * refund held) and nothing has changed for `ORDER_RETENTION_DAYS` (longer than the providers' refund windows), its
 * object keeps only a tombstone (`OrderStore.compact`): the order's state, its refunds and the accepted notifications'
 * ids. A late duplicate is then still a duplicate, and a late refund still applies once. D1 keeps the order's and its
 * deliveries' rows. A subject object (notifications about no order) is kept the same way: its events' raw provider
 * fields go, the accepted notifications' ids stay.
 */
import { isoNow } from '../lib/ids'
import { log } from '../lib/log'
import type { OrderContext } from './context'

const DAY_MS = 24 * 3600_000
/** When the var is missing or unreadable: 400 days (WeChat Pay takes refunds for a year). */
const DEFAULT_RETENTION_DAYS = 400
/** A number of days: digits, with a decimal fraction if any ("400", "0.5"); nothing else ("30d", "-1", "1e3"). */
const RETENTION_DAYS = /^\d+(\.\d+)?$/
/** A century: beyond it a date overflows what an alarm can be set to, and no refund window comes near. */
const MAX_RETENTION_DAYS = 36_500
/** Values already reported as unreadable, so a typo is logged once per isolate, not once per order. */
const reportedUnreadable = new Set<string>()

/** `ORDER_RETENTION_DAYS` in ms; an unreadable value falls back to the default and is logged (never silently). */
export function retentionMs(env: Pick<Env, 'ORDER_RETENTION_DAYS'>): number {
  // A number in wrangler.toml (`= 400`, not `= "400"`) reaches the Worker as one.
  const configured = String(env.ORDER_RETENTION_DAYS ?? '').trim()
  if (RETENTION_DAYS.test(configured) && Number(configured) <= MAX_RETENTION_DAYS) return Number(configured) * DAY_MS
  if (configured !== '' && !reportedUnreadable.has(configured)) {
    reportedUnreadable.add(configured)
    log('error', {
      event: 'retention.misconfigured',
      reason: `ORDER_RETENTION_DAYS is ${JSON.stringify(configured.slice(0, 40))}, not a number of days from 0 to ${MAX_RETENTION_DAYS} (such as "400"): ${DEFAULT_RETENTION_DAYS} days are used`,
    })
  }
  return DEFAULT_RETENTION_DAYS * DAY_MS
}

/**
 * When the object may be reduced to its tombstone (epoch ms): once it has no work left, its retention age after its
 * last change. Null while it has work left (the alarm that does that work asks again), or when the tombstone is as
 * recent as its last change.
 */
export function compactionDueAt(ctx: OrderContext): number | null {
  const { store } = ctx
  // An order changes with each notification it accepts; a subject's notifications each add a delivery. A duplicate
  // or a refusal changes neither, but adds to the audit trail: a tombstone's late ones go in their turn too.
  const stored = store.order.get()?.updatedAt ?? store.subject.createdAt()
  if (stored === null) return null
  if (store.hasWorkLeft()) return null
  const trail = store.notifications.all()
  const changes = [stored, ...store.deliveries.all().map((d) => d.updatedAt), ...trail.map((n) => n.receivedAt)]
  const lastChange = changes.sort().at(-1)!
  const compactedAt = store.compactedAt()
  if (compactedAt !== null && compactedAt >= lastChange) {
    // The tombstone keeps no trail but the accepted entries: one more was recorded since, though the Worker received it
    // (its time) before the compaction ran. It goes in its turn too.
    if (trail.every((n) => n.verdict === 'accepted')) return null
    return Date.parse(compactedAt) + retentionMs(ctx.env)
  }
  return Date.parse(lastChange) + retentionMs(ctx.env)
}

/** Reduces the object to its tombstone (its state as D1 last received it stays there). */
export function compactObject(ctx: OrderContext, now: number): void {
  const order = ctx.store.order.get()
  ctx.store.compact(isoNow(now))
  if (order !== null) log('info', { event: 'order.compacted', merchant_id: order.merchantId, out_trade_no: order.outTradeNo })
  else log('info', { event: 'subject.compacted', merchant_id: ctx.store.subject.get()?.merchantId ?? null })
}

/**
 * Brings the object's alarm forward to its retention date when it has none, or a later one: an object stored before
 * its kind was kept this way (a subject, or an order of an early version), or dated under a longer
 * `ORDER_RETENTION_DAYS`. True when it set one. A sooner alarm stays, and a running one: that run sets the date.
 */
export async function scheduleRetention(ctx: OrderContext): Promise<boolean> {
  // A running alarm reads as none, and may still owe its hand-off to the queue: moved now, a crash before the hand-off
  // would leave D1 behind until the retention date. The run sets the date itself.
  if (ctx.projection.alarmRunning) return false
  const due = compactionDueAt(ctx)
  if (due === null) return false
  const alarm = await ctx.storage.getAlarm()
  if (alarm !== null && alarm <= due) return false
  await ctx.store.setAlarm(Math.max(due, Date.now()))
  return true
}
