/** @module Statements on `subject`: what a subject object's provider notifications are about (empty in an order object). */
import { str, type Row } from './columns'
import type { SubjectRef } from './records'

export class SubjectTable {
  constructor(private readonly sql: SqlStorage) {}

  get(): SubjectRef | null {
    const r = this.sql.exec<Row>('SELECT * FROM subject WHERE singleton = 1').toArray()[0]
    return r ? { merchantId: str(r.merchant_id), provider: str(r.provider), subjectKey: str(r.subject_key) } : null
  }

  ensure(ref: SubjectRef, now: string): void {
    this.sql.exec(
      `INSERT INTO subject (singleton, merchant_id, provider, subject_key, created_at) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT (singleton) DO NOTHING`,
      ref.merchantId,
      ref.provider,
      ref.subjectKey,
      now,
    )
  }
}
