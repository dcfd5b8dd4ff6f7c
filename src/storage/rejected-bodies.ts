/**
 * @module Raw bodies of rejected notifications, kept for merchants that ask for them
 * (`keepRejectedBodies`) so an operator can see why a signature failed: signatures cut short by the
 * channel's adapter before they get here, at most `KEPT_BODY_BYTES` of each, none older than
 * `KEPT_BODY_AGE_MS`, at most `KEPT_BODIES_PER_MERCHANT` per merchant.
 */

export const KEPT_BODY_BYTES = 8 * 1024
export const KEPT_BODY_AGE_MS = 7 * 24 * 3600 * 1000
export const KEPT_BODIES_PER_MERCHANT = 200

export interface KeptBody {
  /** The audit entry it belongs to (`ntf_…`). */
  notificationId: string
  merchantId: string
  receivedAt: string
  contentType: string | null
  headers: Record<string, string>
  body: string
  truncated: boolean
}

interface KeptBodyRow {
  notification_id: string
  merchant_id: string
  received_at: string
  content_type: string | null
  headers: string
  body: string
  truncated: number
}

/** The longest start of `text` whose UTF-8 takes at most `bytes` bytes (never half a character). */
function utf8Start(text: string, bytes: number): string {
  if (text.length * 3 <= bytes) return text
  const { read } = new TextEncoder().encodeInto(text, new Uint8Array(bytes))
  return text.slice(0, read)
}

/** Stores one body (cut to its first `KEPT_BODY_BYTES` bytes of UTF-8) and prunes what the bounds no longer allow. */
export async function keepRejectedBody(db: D1Database, kept: KeptBody, now: number): Promise<void> {
  const body = utf8Start(kept.body, KEPT_BODY_BYTES)
  const truncated = kept.truncated || body.length < kept.body.length
  const oldest = new Date(now - KEPT_BODY_AGE_MS).toISOString()
  await db.batch([
    db
      .prepare(
        `INSERT INTO rejected_bodies (notification_id, merchant_id, received_at, content_type, headers, body, truncated)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (notification_id) DO NOTHING`,
      )
      .bind(kept.notificationId, kept.merchantId, kept.receivedAt, kept.contentType, JSON.stringify(kept.headers), body, truncated ? 1 : 0),
    db.prepare('DELETE FROM rejected_bodies WHERE merchant_id = ? AND received_at < ?').bind(kept.merchantId, oldest),
    db
      .prepare(
        `DELETE FROM rejected_bodies WHERE merchant_id = ?1 AND notification_id NOT IN
           (SELECT notification_id FROM rejected_bodies WHERE merchant_id = ?1 ORDER BY received_at DESC, notification_id DESC LIMIT ?2)`,
      )
      .bind(kept.merchantId, KEPT_BODIES_PER_MERCHANT),
  ])
}

/** The kept body of one rejected notification, or null (never kept, or older than the bound). */
export async function keptBody(db: D1Database, merchantId: string, notificationId: string, now: number): Promise<KeptBody | null> {
  const row = await db
    .prepare('SELECT * FROM rejected_bodies WHERE merchant_id = ? AND notification_id = ? AND received_at >= ?')
    .bind(merchantId, notificationId, new Date(now - KEPT_BODY_AGE_MS).toISOString())
    .first<KeptBodyRow>()
  if (row === null) return null
  return {
    notificationId: row.notification_id,
    merchantId: row.merchant_id,
    receivedAt: row.received_at,
    contentType: row.content_type,
    headers: JSON.parse(row.headers) as Record<string, string>,
    body: row.body,
    truncated: row.truncated === 1,
  }
}
