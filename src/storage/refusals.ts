/**
 * @module Refused notifications, counted in D1: a notification refused before it reached an order object
 * never has an object of its own, so the admin API's trail of it is these counted rows, written by the
 * projection consumer from the refusal records the Worker queues.
 */
import { sha256Hex } from '../crypto/primitives'
import type { ChannelName } from '../providers/core/types'

/** Refusals are counted per merchant, channel and reason in windows this long. */
const REFUSAL_WINDOW_MS = 10 * 60_000
/** Counted refusals are kept this long; the order objects keep their own trail. */
const REFUSAL_RETENTION_MS = 30 * 24 * 3600_000

export interface Refusal {
  merchantId: string
  channel: ChannelName
  reason: string
  /** Epoch ms. */
  receivedAt: number
}

/** The counted row a refusal belongs to: one per merchant, channel, reason and window. */
export async function refusalRowId(refusal: Refusal): Promise<string> {
  const window = Math.floor(refusal.receivedAt / REFUSAL_WINDOW_MS)
  return `ntf_rej_${(await sha256Hex(JSON.stringify([refusal.merchantId, refusal.channel, refusal.reason, window]))).slice(0, 32)}`
}

/**
 * Counts refusals: one row per merchant, channel, reason and window, however many arrive, so a flood of forgeries
 * neither fills D1 nor pushes genuine entries out of the audit trail; one upsert per row a batch touches, and old
 * counts expire.
 */
export async function refusalStatements(db: D1Database, refusals: readonly Refusal[]): Promise<D1PreparedStatement[]> {
  const rows = new Map<string, { refusal: Refusal; count: number; latest: number; first: number }>()
  for (const refusal of refusals) {
    const id = await refusalRowId(refusal)
    const row = rows.get(id)
    if (row === undefined) rows.set(id, { refusal, count: 1, latest: refusal.receivedAt, first: refusal.receivedAt })
    else
      rows.set(id, {
        ...row,
        count: row.count + 1,
        latest: Math.max(row.latest, refusal.receivedAt),
        first: Math.min(row.first, refusal.receivedAt),
      })
  }
  const statements = [...rows].map(([id, { refusal, count, latest, first }]) =>
    db
      .prepare(
        `INSERT INTO notifications (id, merchant_id, channel, out_trade_no, provider_notification_id, received_at, verdict, reason, source,
           count, first_received_at)
         VALUES (?1, ?2, ?3, NULL, NULL, ?4, 'rejected', ?5, 'notify', ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET count = notifications.count + excluded.count, received_at = max(notifications.received_at, excluded.received_at)`,
      )
      .bind(id, refusal.merchantId, refusal.channel, new Date(latest).toISOString(), refusal.reason, count, new Date(first).toISOString()),
  )
  const merchants = new Map(refusals.map((r) => [r.merchantId, r.receivedAt]))
  for (const [merchantId, at] of merchants) {
    statements.push(
      db
        .prepare('DELETE FROM notifications WHERE merchant_id = ? AND first_received_at IS NOT NULL AND received_at < ?')
        .bind(merchantId, new Date(at - REFUSAL_RETENTION_MS).toISOString()),
    )
  }
  return statements
}
