/** @module Statements on `refunds_applied`: refund outcomes already applied, so the same report twice changes nothing. */
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
}
