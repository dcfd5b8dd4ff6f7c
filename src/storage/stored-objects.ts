/**
 * @module The order and subject objects D1 knows of for one merchant, walked in key order a page at a time: the
 * retention walk (`POST /admin/merchants/{merchantId}/retention`) calls each.
 */
import type { ProviderName } from '../providers/core/types'

/**
 * The object a D1 row names: an order's (`out_trade_no`; `subject_key` null) or a subject's, the provider notifications
 * about no order (`subject_key`; `out_trade_no` null). Deliveries name theirs the same way.
 */
export interface StoredObjectRow {
  provider: ProviderName
  out_trade_no: string | null
  subject_key: string | null
}

/** Where a walk stands: the provider and the order number or subject key of the last object a page took. */
export type StoredObjectKey = readonly [provider: string, key: string]

export const STORED_OBJECT_KINDS = ['orders', 'subjects'] as const
export type StoredObjectKind = (typeof STORED_OBJECT_KINDS)[number]

/**
 * Each kind's rows in key order. Orders by the table's primary key; subjects from their deliveries (each accepted
 * notification of a subject has one), each once, along the partial index deliveries_by_subject.
 */
const QUERIES: Record<StoredObjectKind, { keyColumns: string; select: string; group: string }> = {
  orders: {
    keyColumns: 'provider, out_trade_no',
    select: 'SELECT provider, out_trade_no, NULL AS subject_key FROM orders WHERE merchant_id = ?',
    group: '',
  },
  subjects: {
    keyColumns: 'provider, subject_key',
    select: `SELECT provider, NULL AS out_trade_no, subject_key FROM deliveries
             WHERE merchant_id = ? AND subject_key IS NOT NULL`,
    // Grouped along the index (each subject once) rather than DISTINCT, which sorts in a temporary B-tree.
    group: 'GROUP BY provider, subject_key',
  },
}

/** The merchant's objects of one kind after `after` (null: from the first), in key order, `limit` at most. */
export async function storedObjectsAfter(
  db: D1Database,
  kind: StoredObjectKind,
  merchantId: string,
  after: StoredObjectKey | null,
  limit: number,
): Promise<StoredObjectRow[]> {
  const { keyColumns, select, group } = QUERIES[kind]
  const [from, ...bound] = after === null ? ['1'] : [`(${keyColumns}) > (?, ?)`, ...after]
  const { results } = await db
    .prepare(`${select} AND ${from} ${group} ORDER BY ${keyColumns} LIMIT ?`)
    .bind(merchantId, ...bound, limit)
    .all<StoredObjectRow>()
  return results
}
