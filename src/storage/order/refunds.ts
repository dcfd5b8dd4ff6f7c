/**
 * @module Statements on `refunds` (each refund of the order: registered, notified, queried, settled) and
 * `refunds_applied` (the refund events already emitted, so the same report twice changes nothing).
 */
import { num, numOrNull, str, strOrNull, type Row } from './columns'
import type { HeldRefund, RefundRow, RefundStatus } from './records'

function toRefund(r: Row): RefundRow {
  const held = strOrNull(r.held)
  return {
    outRefundNo: str(r.out_refund_no),
    refundId: strOrNull(r.refund_id),
    registeredAmount: numOrNull(r.registered_amount),
    amount: numOrNull(r.amount),
    cumulative: numOrNull(r.cumulative),
    status: str(r.status) as RefundStatus,
    held: held === null ? null : (JSON.parse(held) as HeldRefund),
    nextQueryAt: numOrNull(r.next_query_at),
    queriesMade: num(r.queries_made),
    lastQueryAt: numOrNull(r.last_query_at),
    lastResult: strOrNull(r.last_result),
    expiresAt: numOrNull(r.expires_at),
  }
}

export class RefundTable {
  constructor(private readonly sql: SqlStorage) {}

  has(outRefundNo: string, outcome: string): boolean {
    return this.sql.exec('SELECT 1 FROM refunds_applied WHERE out_refund_no = ? AND outcome = ?', outRefundNo, outcome).toArray().length > 0
  }

  record(outRefundNo: string, outcome: string, amount: number): void {
    this.sql.exec(
      'INSERT INTO refunds_applied (out_refund_no, outcome, amount) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      outRefundNo,
      outcome,
      amount,
    )
  }

  get(outRefundNo: string): RefundRow | null {
    const row = this.sql.exec<Row>('SELECT * FROM refunds WHERE out_refund_no = ?', outRefundNo).toArray()[0]
    return row ? toRefund(row) : null
  }

  /** Every refund, in the order the gateway first heard of them. */
  rows(): RefundRow[] {
    return this.sql.exec<Row>('SELECT * FROM refunds ORDER BY rowid').toArray().map(toRefund)
  }

  save(row: RefundRow, now: string): void {
    this.sql.exec(
      `INSERT INTO refunds (out_refund_no, refund_id, registered_amount, amount, cumulative, status, held, next_query_at,
         queries_made, last_query_at, last_result, expires_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (out_refund_no) DO UPDATE SET refund_id = excluded.refund_id, registered_amount = excluded.registered_amount,
         amount = excluded.amount, cumulative = excluded.cumulative, status = excluded.status, held = excluded.held,
         next_query_at = excluded.next_query_at, queries_made = excluded.queries_made, last_query_at = excluded.last_query_at,
         last_result = excluded.last_result, expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
      row.outRefundNo,
      row.refundId,
      row.registeredAmount,
      row.amount,
      row.cumulative,
      row.status,
      row.held === null ? null : JSON.stringify(row.held),
      row.nextQueryAt,
      row.queriesMade,
      row.lastQueryAt,
      row.lastResult,
      row.expiresAt,
      now,
    )
  }

  /** Refunds whose next query is due at `now`, oldest plan first. */
  due(now: number, limit: number): RefundRow[] {
    return this.sql
      .exec<Row>('SELECT * FROM refunds WHERE next_query_at IS NOT NULL AND next_query_at <= ? ORDER BY next_query_at LIMIT ?', now, limit)
      .toArray()
      .map(toRefund)
  }

  /** When the next refund query is planned (epoch ms), or null. */
  nextQueryAt(): number | null {
    return numOrNull(this.sql.exec<Row>('SELECT min(next_query_at) AS at FROM refunds').one().at)
  }
}
