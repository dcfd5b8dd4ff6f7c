/**
 * @module Raw bodies of rejected notifications, kept for merchants that ask for them
 * (`keepRejectedBodies`) so an operator can see why a signature failed: signatures cut short by the
 * channel's adapter before they get here, at most `KEPT_BODY_BYTES` of each, none older than
 * `KEPT_BODY_AGE_MS`, at most `KEPT_BODIES_PER_MERCHANT` per merchant. They travel with their refusal through the
 * projection queue and are written in its consumer's batch: a flood of forgeries costs no D1 write of its own.
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

/** A refused notification's redacted body as the Worker queues it with its refusal: cut to `KEPT_BODY_BYTES`. */
export interface RefusedBody {
  contentType: string | null
  headers: Record<string, string>
  body: string
  truncated: boolean
}

/** At most this much of each kept header value (they come from whoever sent the refused request). */
const KEPT_HEADER_BYTES = 256

/**
 * The body cut to its first `KEPT_BODY_BYTES` bytes of UTF-8 and each header value to `KEPT_HEADER_BYTES`, so a
 * queued refusal stays far below a queue message's 128 KB however large the forged request was.
 */
export function refusedBody(contentType: string | null, headers: Record<string, string>, body: string): RefusedBody {
  const kept = utf8Start(body, KEPT_BODY_BYTES)
  const cut = (value: string) => {
    const start = utf8Start(value, KEPT_HEADER_BYTES)
    return start.length < value.length ? `${start}…` : value
  }
  return {
    contentType: contentType === null ? null : cut(contentType),
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, cut(value)])),
    body: kept,
    truncated: kept.length < body.length,
  }
}

/** Keeps a body under the audit row it belongs to; a row that has one already keeps its own. */
export function keepBodyStatement(db: D1Database, notificationId: string, merchantId: string, receivedAt: string, kept: RefusedBody) {
  return db
    .prepare(
      `INSERT INTO rejected_bodies (notification_id, merchant_id, received_at, content_type, headers, body, truncated)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (notification_id) DO NOTHING`,
    )
    .bind(notificationId, merchantId, receivedAt, kept.contentType, JSON.stringify(kept.headers), kept.body, kept.truncated ? 1 : 0)
}

/** Drops the merchant's bodies that the bounds no longer allow: older than `KEPT_BODY_AGE_MS`, beyond the newest 200. */
export function pruneBodiesStatements(db: D1Database, merchantId: string, now: number): D1PreparedStatement[] {
  return [
    db
      .prepare('DELETE FROM rejected_bodies WHERE merchant_id = ? AND received_at < ?')
      .bind(merchantId, new Date(now - KEPT_BODY_AGE_MS).toISOString()),
    db
      .prepare(
        `DELETE FROM rejected_bodies WHERE merchant_id = ?1 AND notification_id NOT IN
           (SELECT notification_id FROM rejected_bodies WHERE merchant_id = ?1 ORDER BY received_at DESC, notification_id DESC LIMIT ?2)`,
      )
      .bind(merchantId, KEPT_BODIES_PER_MERCHANT),
  ]
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
