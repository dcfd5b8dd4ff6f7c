/** @module A payment as WeChat Pay APIv3 reports it: the payment notify, the order query, a combined payment's sub-order. */
import type { NotificationEffect } from '../core/types'
import { fen, optionalInstant, optionalText, requiredObject, requiredText, type JsonFields } from './v3-json'

/**
 * A payment as a v3 `Transaction` reports it: the TRANSACTION.SUCCESS resource and the order-query
 * answer are the same object (`amount.total` in fen, `transaction_id`, RFC 3339 `success_time`). A combined
 * payment's sub-order has the same fields, but names its amount `amount.total_amount`.
 */
export function transactionPaymentEffect(
  transaction: JsonFields,
  totalField: 'total' | 'total_amount' = 'total',
): Extract<NotificationEffect, { kind: 'payment' }> {
  const amount = requiredObject(transaction, 'amount')
  return {
    kind: 'payment',
    amount: fen(amount, totalField),
    currency: optionalText(amount, 'currency') || 'CNY',
    transactionId: requiredText(transaction, 'transaction_id'),
    paidAt: optionalInstant(transaction, 'success_time'),
  }
}
