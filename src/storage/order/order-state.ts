/** @module Statements on `order_state`: the one row holding the order as the state machine sees it. */
import type { ProviderName } from '../../providers/core/types'
import { num, numOrNull, str, strOrNull, type Row } from './columns'
import type { OrderRef, OrderRow, OrderState, OrderStatus } from './records'

function toOrder(r: Row): OrderRow {
  return {
    merchantId: str(r.merchant_id),
    provider: str(r.provider) as ProviderName,
    outTradeNo: str(r.out_trade_no),
    status: str(r.status) as OrderStatus,
    expectedAmount: numOrNull(r.expected_amount),
    expectedCurrency: strOrNull(r.expected_currency),
    amount: numOrNull(r.amount),
    currency: strOrNull(r.currency),
    transactionId: strOrNull(r.transaction_id),
    paidAt: strOrNull(r.paid_at),
    refundedAmount: num(r.refunded_amount),
    version: num(r.version),
    projectedVersion: num(r.projected_version),
    updatedAt: str(r.updated_at),
  }
}

export class OrderStateTable {
  constructor(private readonly sql: SqlStorage) {}

  get(): OrderRow | null {
    const rows = this.sql.exec<Row>('SELECT * FROM order_state WHERE singleton = 1').toArray()
    return rows[0] ? toOrder(rows[0]) : null
  }

  /** The order's row, created `pending` on first contact. */
  ensure(ref: OrderRef, now: string): OrderRow {
    this.sql.exec(
      `INSERT INTO order_state (singleton, merchant_id, provider, out_trade_no, status, version, updated_at)
       VALUES (1, ?, ?, ?, 'pending', 1, ?) ON CONFLICT (singleton) DO NOTHING`,
      ref.merchantId,
      ref.provider,
      ref.outTradeNo,
      now,
    )
    return this.get()!
  }

  save(state: OrderState, now: string): void {
    this.sql.exec(
      `UPDATE order_state SET status = ?, expected_amount = ?, expected_currency = ?, amount = ?, currency = ?,
         transaction_id = ?, paid_at = ?, refunded_amount = ?, version = version + 1, updated_at = ?
       WHERE singleton = 1`,
      state.status,
      state.expectedAmount,
      state.expectedCurrency,
      state.amount,
      state.currency,
      state.transactionId,
      state.paidAt,
      state.refundedAmount,
      now,
    )
  }

  markProjected(version: number): void {
    this.sql.exec('UPDATE order_state SET projected_version = max(projected_version, ?) WHERE singleton = 1', version)
  }
}
