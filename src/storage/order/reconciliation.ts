/** @module Statements on `reconciliation`: the provider queries planned and made for this order. */
import { num, numOrNull, strOrNull, type Row } from './columns'
import type { ReconciliationRow } from './records'

export class ReconciliationTable {
  constructor(private readonly sql: SqlStorage) {}

  get(): ReconciliationRow | null {
    const r = this.sql.exec<Row>('SELECT * FROM reconciliation WHERE singleton = 1').toArray()[0]
    return r
      ? {
          nextQueryAt: numOrNull(r.next_query_at),
          queriesMade: num(r.queries_made),
          expiresAt: num(r.expires_at),
          lastQueryAt: numOrNull(r.last_query_at),
          lastResult: strOrNull(r.last_result),
        }
      : null
  }

  /** Plans a query at `at` (keeping an earlier plan), watching the order until `expiresAt`. */
  plan(at: number, expiresAt: number): void {
    this.sql.exec(
      `INSERT INTO reconciliation (singleton, next_query_at, expires_at) VALUES (1, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at),
         next_query_at = CASE WHEN next_query_at IS NULL OR excluded.next_query_at < next_query_at
                              THEN excluded.next_query_at ELSE next_query_at END`,
      at,
      expiresAt,
    )
  }

  /** A reconciliation row with nothing planned, for an on-demand query of an unregistered order. */
  ensure(expiresAt: number): void {
    this.sql.exec('INSERT INTO reconciliation (singleton, expires_at) VALUES (1, ?) ON CONFLICT (singleton) DO NOTHING', expiresAt)
  }

  recordQuery(at: number, result: string, nextQueryAt: number | null): void {
    this.sql.exec(
      `UPDATE reconciliation SET queries_made = queries_made + 1, last_query_at = ?, last_result = ?, next_query_at = ?
       WHERE singleton = 1`,
      at,
      result,
      nextQueryAt,
    )
  }

  stop(): void {
    this.sql.exec('UPDATE reconciliation SET next_query_at = NULL WHERE singleton = 1')
  }
}
