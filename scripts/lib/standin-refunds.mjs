// What the provider stand-in says about a refund `npm run simulate` made: found by its number among the orders
// simulate paid, in the shape of each refund-query API (WeChat Pay v3 `Refund`, v2 `refundquery` fields, Alipay
// `alipay.trade.fastpay.refund.query`). Pure; the stand-in signs what these build.
import { beijingDashed, fenToYuan, rfc3339Beijing } from './build-notification.mjs'

/**
 * The refund numbered `outRefundNo` of a `provider` order in `orders` (knownOrders()), with its order; null when
 * simulate made no such refund. Refunds are `{ outRefundNo, amountFen, refundId, refundedAt }`.
 */
export function findRefund(orders, provider, outRefundNo) {
  for (const [key, order] of orders) {
    if (!key.startsWith(`${provider}:`)) continue
    const refund = (order.refunds ?? []).find((r) => r.outRefundNo === outRefundNo)
    if (refund !== undefined) return { order, refund }
  }
  return null
}

/** `GET /v3/refund/domestic/refunds/{no}`: the refund, settled. */
export function v3RefundObject(order, refund) {
  return {
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    transaction_id: order.transactionId,
    out_trade_no: order.outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    success_time: rfc3339Beijing(refund.refundedAt),
    create_time: rfc3339Beijing(refund.refundedAt),
    status: 'SUCCESS',
    funds_account: 'AVAILABLE',
    amount: {
      total: order.totalFen,
      refund: refund.amountFen,
      payer_total: order.totalFen,
      payer_refund: refund.amountFen,
      settlement_refund: refund.amountFen,
      settlement_total: order.totalFen,
      discount_refund: 0,
      currency: 'CNY',
    },
  }
}

/** `POST /pay/refundquery` by out_refund_no: the order's fields and the one refund as `_0`. */
export function v2RefundFields(order, refund) {
  return {
    result_code: 'SUCCESS',
    transaction_id: order.transactionId,
    out_trade_no: order.outTradeNo,
    total_fee: String(order.totalFen),
    cash_fee: String(order.totalFen),
    refund_count: '1',
    out_refund_no_0: refund.outRefundNo,
    refund_id_0: refund.refundId,
    refund_channel_0: 'ORIGINAL',
    refund_fee_0: String(refund.amountFen),
    refund_status_0: 'SUCCESS',
    refund_recv_accout_0: '支付用户零钱',
    refund_success_time_0: beijingDashed(refund.refundedAt),
  }
}

/** `alipay.trade.fastpay.refund.query`: the refund's fields (their presence is what says it succeeded). */
export function alipayRefundFields(order, refund) {
  return {
    trade_no: order.transactionId,
    out_trade_no: order.outTradeNo,
    out_request_no: refund.outRefundNo,
    total_amount: fenToYuan(order.totalFen),
    refund_amount: fenToYuan(refund.amountFen),
    refund_status: 'REFUND_SUCCESS',
    gmt_refund_pay: beijingDashed(refund.refundedAt),
  }
}
