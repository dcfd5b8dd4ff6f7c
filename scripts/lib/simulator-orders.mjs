// What `npm run simulate` records of the orders it paid, in its state (readSimulatorState() in ./demo.mjs): the
// facts the provider stand-in answers the order queries with (scripts/lib/provider-standin.mjs) and `refund`
// refunds. Pure: simulate reads and writes the state file; test/simulate/ records with these same functions.
import { lastKey } from './simulate-options.mjs'
import { DEMO_PARTNER } from './demo.mjs'

/** What simulate records of whose an order is: a sub-merchant's (`--partner`) names its sub_mchid, for partner-mode queries. */
export function merchantFacts(merchantId, partner) {
  return partner ? { merchantId, subMchid: DEMO_PARTNER.subMchid } : {}
}

/**
 * Records the orders a notification simulate sent paid, in `state.orders`: a payment's order, or a combined
 * payment's sub-orders (`combineOutTradeNo`: the combine's number, which WeChat asks about them by; null for a
 * payment of its own). `paid`: `{ outTradeNo, amount, transactionId }` each, as buildNotification() built them.
 * An order simulate knew already keeps its facts (paying it again changes nothing at the gateway), and is no
 * longer one whose notification was lost.
 */
export function recordNotifiedPayments(state, { channel, provider, merchantId, partner, paid, combineOutTradeNo, now }) {
  for (const order of paid) {
    const key = `${provider}:${order.outTradeNo}`
    const known = state.orders[key] ?? state.paidWithoutNotify[key]
    const combine = known?.combineOutTradeNo ?? combineOutTradeNo
    state.orders[key] = {
      channel,
      ...merchantFacts(merchantId, partner),
      outTradeNo: order.outTradeNo,
      ...(combine === null || combine === undefined ? {} : { combineOutTradeNo: combine }),
      totalFen: known?.totalFen ?? order.amount,
      transactionId: known?.transactionId ?? order.transactionId,
      refundedFen: known?.refundedFen ?? 0,
      paidAt: known?.paidAt ?? now,
      updatedAt: Date.now(),
    }
    delete state.paidWithoutNotify[key]
    if (state.lastWithoutNotify === key) state.lastWithoutNotify = null
    state.last[lastKey(provider, partner)] = order.outTradeNo
  }
}
