/**
 * @module WeChat Pay's `trade_state`, the same words in APIv2 and APIv3 order queries, as one mapping
 * to query results; each API supplies only how its answer states the payment.
 */
import { queryNotification } from '../core/query-exchange'
import type { QueryResult } from '../core/query-types'
import { refuse } from '../core/rejection'
import type { NotificationEffect } from '../core/types'

export interface WechatpayAnswer {
  channel: 'wechatpay.v2' | 'wechatpay.v3'
  outTradeNo: string
  tradeState: string
  transactionId: string | null
  /** The verified answer's fields, forwarded as `data.raw`. */
  raw: Record<string, unknown>
  /** The payment the answer reports, read only when it reports one. */
  payment(): Extract<NotificationEffect, { kind: 'payment' }>
}

export function wechatpayTradeStateOutcome(answer: WechatpayAnswer): QueryResult {
  const { channel, outTradeNo, raw } = answer
  const notification = <Effect extends Parameters<typeof queryNotification>[3]>(effect: Effect) =>
    queryNotification(channel, 'wechatpay', outTradeNo, effect, raw)
  switch (answer.tradeState) {
    case 'SUCCESS':
      return { kind: 'paid', notification: notification(answer.payment()) }
    case 'REFUND':
      return { kind: 'refunded', notification: notification(answer.payment()) }
    // REVOKED: a payment-code order cancelled, its money (if any) returned.
    case 'CLOSED':
    case 'REVOKED':
      return {
        kind: 'closed',
        notification: notification({ kind: 'close', transactionId: answer.transactionId, closedAt: null, amount: null }),
      }
    // ACCEPT: received, waiting to debit; PAYERROR: this attempt failed, the buyer may pay again.
    case 'NOTPAY':
    case 'USERPAYING':
    case 'ACCEPT':
    case 'PAYERROR':
      return { kind: 'not_paid', providerStatus: answer.tradeState }
    default:
      return refuse('unsupported_event', 'unknown trade_state')
  }
}
