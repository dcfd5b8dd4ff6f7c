/**
 * @module A payment as WeChat Pay APIv2 reports it (the pay notify, the order query, a combined payment's sub-order),
 * and the readers of v2 fields it shares with the refund notify.
 */
import { parseFen } from '../core/money'
import { refuse } from '../core/rejection'
import { beijingTimeToIso } from '../core/time'
import type { NotificationEffect } from '../core/types'
import type { XmlFields } from './xml'

/**
 * A payment as v2 reports it: the pay notify and the `/pay/orderquery` answer carry the same fields
 * (`total_fee` in fen, `fee_type`, `transaction_id`, Beijing `time_end`).
 */
export function v2PaymentEffect(fields: XmlFields): Extract<NotificationEffect, { kind: 'payment' }> {
  return {
    kind: 'payment',
    amount: fenField(fields, 'total_fee'),
    currency: fields.fee_type ?? 'CNY',
    transactionId: requiredField(fields, 'transaction_id'),
    paidAt: beijingTimeField(fields, 'time_end'),
  }
}

export function requiredField(fields: XmlFields, name: string): string {
  const value = fields[name]
  return value === undefined || value === '' ? refuse('malformed_body', `${name} is missing`) : value
}

export function fenField(fields: XmlFields, name: string): number {
  return parseFen(requiredField(fields, name)) ?? refuse('malformed_body', `${name} is not an amount in fen`)
}

/** Absent → null; present but not a Beijing time → the message is malformed. */
export function beijingTimeField(fields: XmlFields, name: string): string | null {
  const value = fields[name]
  if (value === undefined || value === '') return null
  return beijingTimeToIso(value) ?? refuse('malformed_body', `${name} is not a Beijing time`)
}
