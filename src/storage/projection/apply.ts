/**
 * @module The queue consumer's write into one shard: a batch of projection records becomes one D1 `batch()` (one
 * write transaction). Records are merged first (the newest state of each order and delivery wins), compared with what
 * the shard holds (one read per table), and only what is newer is written, with version-guarded upserts, so a record
 * sent twice, a batch replayed, or an older state arriving late writes nothing. The stats counters are the
 * difference between what the shard held and what it now holds, one upsert per merchant and minute; a recovered
 * delivery's failure is taken back from the minute that counted it (`failed_minute`).
 */
import { refusalStatements } from '../refusals'
import {
  countAttempt,
  countDeliveryOutcome,
  countNotification,
  minuteOf,
  statsCutoffMinute,
  statsStatement,
  uncountFailure,
  type StatsDelta,
} from '../stats'
import type { DeliveryProjection, NotificationProjection, ObjectRecord, OrderProjection, ProjectionRecord, RefusalRecord } from './records'
import { deliveryStatements, notificationStatements, orderStatements, type DeliveryWrite } from './statements'

export interface ShardWrite {
  /** D1 rows written by the transaction (index entries included), from its results' `meta.rows_written`. */
  rowsWritten: number
  /** 1 when anything was written, else 0. */
  transactions: number
  /** Per merchant, the URL and time of its latest successful delivery in the batch, for the endpoint's health. */
  successes: Map<string, { url: string; at: number }>
}

const orderKey = (o: Pick<OrderProjection, 'merchantId' | 'provider' | 'outTradeNo'>): string =>
  JSON.stringify([o.merchantId, o.provider, o.outTradeNo])

export async function applyToShard(db: D1Database, records: readonly ProjectionRecord[], now = Date.now()): Promise<ShardWrite> {
  const merged = merge(records)
  const [orders, deliveries, notifications] = await Promise.all([
    storedOrders(db, [...merged.orders.values()]),
    storedDeliveries(db, [...merged.deliveries.keys()]),
    storedNotificationIds(db, [...merged.notifications.keys()]),
  ])
  const stats = new Map<string, StatsDelta>()
  const delta = (merchantId: string): StatsDelta => stats.get(merchantId) ?? stats.set(merchantId, new Map()).get(merchantId)!
  const changedOrders: OrderProjection[] = []
  for (const order of merged.orders.values()) {
    const stored = orders.get(orderKey(order))
    if (stored !== undefined && order.version <= stored.version && order.acceptedNotifications <= stored.accepted) continue
    const newlyAccepted = order.acceptedNotifications - (stored?.accepted ?? 0)
    const times = acceptedTimesOf(order)
    for (let i = 0; i < newlyAccepted; i++) {
      // Each in the minute it came; past the times carried, the oldest one carried stands in.
      const at = times[times.length - newlyAccepted + i] ?? times[0] ?? order.updatedAt
      countNotification(delta(order.merchantId), at, 'accepted', null)
    }
    changedOrders.push(order)
  }
  const successes = new Map<string, { url: string; at: number }>()
  const changedDeliveries: DeliveryWrite[] = []
  for (const d of merged.deliveries.values()) {
    const stored = deliveries.get(d.id)
    if (stored !== undefined && d.version <= stored.version) continue
    // Only what the shard did not have yet reaches the merchant's monitor: a record sent again reports nothing.
    const url = merged.forwardUrls.get(d.id)
    const latest = successes.get(d.merchantId)
    if (d.deliveredAt !== null && url !== undefined && (latest === undefined || d.deliveredAt > latest.at))
      successes.set(d.merchantId, { url, at: d.deliveredAt })
    const counts = delta(d.merchantId)
    const final = d.status === 'delivered' || d.status === 'failed'
    // A new outcome: the first, or one reached again after a replay (which always adds an attempt or changes status).
    const newOutcome = final && (stored === undefined || stored.status !== d.status || stored.attempts < d.attempts)
    // A failure the stats hold that this state ends (recovered: pending again, delivered, or failed anew) is taken back
    // from its minute: `failed` counts the failures still standing, so a recovery does not leave them counted.
    const counted = stored?.failedMinute ?? null
    // Not into a minute the daily prune has dropped (its row would come back holding -1).
    if (counted !== null && (d.status !== 'failed' || newOutcome) && counted >= statsCutoffMinute(now)) uncountFailure(counts, counted)
    if (newOutcome) countDeliveryOutcome(counts, d.updatedAt, d.status as 'delivered' | 'failed')
    for (const attempt of d.attemptLog)
      if (attempt.number > (stored?.attempts ?? 0)) countAttempt(counts, attempt.startedAt, attempt.latencyMs)
    const failedMinute = d.status !== 'failed' ? null : newOutcome ? minuteOf(d.updatedAt) : (stored?.failedMinute ?? null)
    changedDeliveries.push({ ...d, failedMinute })
  }
  const newNotifications: NotificationProjection[] = []
  for (const n of merged.notifications.values()) {
    if (notifications.has(n.id)) continue
    countNotification(delta(n.merchantId), n.receivedAt, n.verdict, n.reason)
    newNotifications.push(n)
  }
  for (const duplicate of merged.duplicates)
    countNotification(delta(duplicate.merchantId), new Date(duplicate.receivedAt).toISOString(), 'duplicate', null)
  const refusals = await refusalStatements(db, merged.refusals)
  const statements = [
    ...orderStatements(db, changedOrders),
    ...deliveryStatements(db, changedDeliveries),
    // The objects' new notifications and the refusals listed one by one: one statement.
    ...notificationStatements(db, [...newNotifications, ...refusals.listed]),
    ...refusals.statements,
  ]
  for (const r of refusals.fresh) countNotification(delta(r.merchantId), new Date(r.receivedAt).toISOString(), 'rejected', r.reason)
  for (const [merchantId, minutes] of stats)
    for (const [minute, counts] of minutes) statements.push(statsStatement(db, merchantId, minute, counts))

  if (statements.length === 0) return { rowsWritten: 0, transactions: 0, successes }
  const results = await db.batch(statements)
  const rowsWritten = results.reduce((sum, result) => sum + (result.meta?.rows_written ?? 0), 0)
  return { rowsWritten, transactions: 1, successes }
}

interface Merged {
  orders: Map<string, OrderProjection>
  deliveries: Map<string, DeliveryProjection>
  notifications: Map<string, NotificationProjection>
  refusals: RefusalRecord[]
  duplicates: Array<{ merchantId: string; receivedAt: number }>
  /** Where each delivery's object forwards to, for the endpoint's health. */
  forwardUrls: Map<string, string>
}

function merge(records: readonly ProjectionRecord[]): Merged {
  const merged: Merged = {
    orders: new Map(),
    deliveries: new Map(),
    notifications: new Map(),
    refusals: [],
    duplicates: [],
    forwardUrls: new Map(),
  }
  for (const record of records) {
    if (record.kind === 'refusal') merged.refusals.push(record)
    else if (record.kind === 'duplicate') merged.duplicates.push(record)
    else mergeObject(merged, record)
  }
  return merged
}

function mergeObject(merged: Merged, record: ObjectRecord): void {
  if (record.order !== null) {
    const key = orderKey(record.order)
    const seen = merged.orders.get(key)
    merged.orders.set(
      key,
      seen === undefined
        ? record.order
        : {
            ...(record.order.version >= seen.version ? record.order : seen),
            // The count and times of the record that saw the most notifications.
            ...(record.order.acceptedNotifications >= seen.acceptedNotifications ? acceptedOf(record.order) : acceptedOf(seen)),
          },
    )
  }
  for (const d of record.deliveries) {
    const seen = merged.deliveries.get(d.id)
    if (seen !== undefined && d.version <= seen.version) continue
    merged.deliveries.set(d.id, d)
    // The URL of the record whose copy of the delivery is kept: an older record later in the batch does not win it.
    if (record.forwardUrl !== null) merged.forwardUrls.set(d.id, record.forwardUrl)
  }
  for (const n of record.notifications) merged.notifications.set(n.id, n)
}

/** When an order's latest accepted notifications came, oldest first, as its record says (an earlier version's: the last). */
function acceptedTimesOf(order: OrderProjection): string[] {
  return order.acceptedTimes ?? (order.lastAcceptedAt ? [order.lastAcceptedAt] : [])
}

function acceptedOf(order: OrderProjection): Pick<OrderProjection, 'acceptedNotifications' | 'acceptedTimes'> {
  return { acceptedNotifications: order.acceptedNotifications, acceptedTimes: acceptedTimesOf(order) }
}

async function storedOrders(db: D1Database, orders: OrderProjection[]): Promise<Map<string, { version: number; accepted: number }>> {
  if (orders.length === 0) return new Map()
  const { results } = await db
    .prepare(
      `SELECT o.merchant_id, o.provider, o.out_trade_no, o.version, o.accepted_notifications FROM json_each(?1) AS j
       JOIN orders AS o ON o.merchant_id = j.value ->> 0 AND o.provider = j.value ->> 1 AND o.out_trade_no = j.value ->> 2`,
    )
    .bind(JSON.stringify(orders.map((o) => [o.merchantId, o.provider, o.outTradeNo])))
    .all<{ merchant_id: string; provider: string; out_trade_no: string; version: number; accepted_notifications: number }>()
  return new Map(
    results.map((r) => [
      orderKey({ merchantId: r.merchant_id, provider: r.provider, outTradeNo: r.out_trade_no }),
      { version: r.version, accepted: r.accepted_notifications },
    ]),
  )
}

interface StoredDelivery {
  version: number
  status: string
  attempts: number
  /** The minute whose counter holds its failure, while it is failed (null for one counted before migration 0017). */
  failedMinute: number | null
}

async function storedDeliveries(db: D1Database, ids: string[]): Promise<Map<string, StoredDelivery>> {
  if (ids.length === 0) return new Map()
  const { results } = await db
    .prepare('SELECT id, version, status, attempts, failed_minute FROM deliveries WHERE id IN (SELECT value FROM json_each(?))')
    .bind(JSON.stringify(ids))
    .all<{ id: string; version: number; status: string; attempts: number; failed_minute: number | null }>()
  return new Map(results.map((r) => [r.id, { version: r.version, status: r.status, attempts: r.attempts, failedMinute: r.failed_minute }]))
}

async function storedNotificationIds(db: D1Database, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const { results } = await db
    .prepare('SELECT id FROM notifications WHERE id IN (SELECT value FROM json_each(?))')
    .bind(JSON.stringify(ids))
    .all<{ id: string }>()
  return new Set(results.map((r) => r.id))
}
