/**
 * @module The order and subject objects D1 knows of for one merchant, walked in key order a page at a time: the
 * retention walk (`POST /admin/merchants/{merchantId}/retention`) calls each.
 */
import type { ProviderName } from '../providers/core/types'

/** One object: an order's (`out_trade_no`) or a subject's (`subject_key`). */
export interface StoredObjectRow {
  provider: ProviderName
  out_trade_no: string | null
  subject_key: string | null
}

/** Where a walk stands: the provider and the order number or subject key of the last object a page took. */
export type StoredObjectKey = readonly [provider: string, key: string]

/** The merchant's orders after `after`, by provider and order number (the table's primary key), `limit` at most. */
export async function ordersAfter(
  db: D1Database,
  merchantId: string,
  after: StoredObjectKey | null,
  limit: number,
): Promise<StoredObjectRow[]> {
  const [from, ...bound] = after === null ? ['1'] : ['(provider, out_trade_no) > (?, ?)', ...after]
  const { results } = await db
    .prepare(
      `SELECT provider, out_trade_no, NULL AS subject_key FROM orders WHERE merchant_id = ? AND ${from}
       ORDER BY provider, out_trade_no LIMIT ?`,
    )
    .bind(merchantId, ...bound, limit)
    .all<StoredObjectRow>()
  return results
}

/**
 * The merchant's subjects after `after`, by provider and subject key, each once, `limit` at most: from their
 * deliveries (each accepted notification of a subject has one), along the partial index deliveries_by_subject.
 */
export async function subjectsAfter(
  db: D1Database,
  merchantId: string,
  after: StoredObjectKey | null,
  limit: number,
): Promise<StoredObjectRow[]> {
  const [from, ...bound] = after === null ? ['1'] : ['(provider, subject_key) > (?, ?)', ...after]
  const { results } = await db
    .prepare(
      `SELECT DISTINCT provider, NULL AS out_trade_no, subject_key FROM deliveries
       WHERE merchant_id = ? AND subject_key IS NOT NULL AND ${from} ORDER BY provider, subject_key LIMIT ?`,
    )
    .bind(merchantId, ...bound, limit)
    .all<StoredObjectRow>()
  return results
}
