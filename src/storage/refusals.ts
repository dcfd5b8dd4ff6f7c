/**
 * @module Refused notifications, counted in D1: a notification refused before it reached an order object
 * never has an object of its own, so the admin API's trail of it is these counted rows.
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

/**
 * Counts a notification refused before it reached an order object (bad signature, wrong merchant ids, an
 * unsigned message): one row per merchant, channel, reason and window, however many arrive, so a flood
 * of forgeries neither fills D1 nor pushes genuine entries out of the audit trail. Old counts expire.
 * Returns the counted row's id.
 */
export async function countRefusal(db: D1Database, refusal: Refusal): Promise<string> {
  const window = Math.floor(refusal.receivedAt / REFUSAL_WINDOW_MS)
  const id = `ntf_rej_${(await sha256Hex(JSON.stringify([refusal.merchantId, refusal.channel, refusal.reason, window]))).slice(0, 32)}`
  const at = new Date(refusal.receivedAt).toISOString()
  await db.batch([
    db
      .prepare(
        `INSERT INTO notifications (id, merchant_id, channel, out_trade_no, provider_notification_id, received_at, verdict, reason, source,
           count, first_received_at)
         VALUES (?1, ?2, ?3, NULL, NULL, ?4, 'rejected', ?5, 'notify', 1, ?4)
         ON CONFLICT (id) DO UPDATE SET count = notifications.count + 1, received_at = max(notifications.received_at, excluded.received_at)`,
      )
      .bind(id, refusal.merchantId, refusal.channel, at, refusal.reason),
    db
      .prepare('DELETE FROM notifications WHERE merchant_id = ? AND first_received_at IS NOT NULL AND received_at < ?')
      .bind(refusal.merchantId, new Date(refusal.receivedAt - REFUSAL_RETENTION_MS).toISOString()),
  ])
  return id
}
