/** @module Runs one channel adapter over a raw callback: parse → verify → normalize. */
import { orderNumberProblem } from './order-number'
import { NotifyRejection, refuse, refusingOrder, withoutOrder } from './rejection'
import type { ChannelAdapter, MerchantSections, RawNotification, VerifiedNotification } from './types'
import { ownValue } from '../../lib/own'

/**
 * Hands the adapter its provider's section of the merchant config. Throws `NotifyRejection` with
 * the precise reason when any step refuses the callback. A refusal names an order (`outTradeNo`) only once `verify`
 * has passed: an adapter's `normalize` names it (`refusingOrder`), and so do the facts checked here after it.
 */
export async function verifyNotification<Config>(
  adapter: ChannelAdapter<Config>,
  raw: RawNotification,
  merchant: MerchantSections,
  now: number,
): Promise<VerifiedNotification> {
  const config = ownValue(merchant, adapter.provider) as Config | undefined
  let verified: unknown
  try {
    const wire: unknown = adapter.parse(raw)
    verified = await adapter.verify(wire, config, now)
  } catch (error) {
    // Not verified: whatever order the body names could be anyone's.
    throw error instanceof NotifyRejection ? withoutOrder(error) : error
  }
  const notification = await adapter.normalize(verified, config)
  // A combined payment's rules are about its sub-orders together: its refusal names none of them.
  const named = notification.effect.kind === 'combined' ? null : notification.outTradeNo
  return refusingOrder(named, () => checkFacts(notification))
}

/**
 * The rules every channel's facts obey, whatever the provider's own format allows: a notification's, and a query's
 * answer (`queryNotification`, `refundQueryNotification`), which is applied as its notification would be.
 */
export function checkFacts(notification: VerifiedNotification): VerifiedNotification {
  const { outTradeNo, effect } = notification
  if (effect.kind === 'combined') return checkSubOrders(notification, effect.subOrders)
  // Only a message about no order at all (an unsigned v2 FAIL, a transfer or complaint) names none.
  if (outTradeNo !== '' || (effect.kind !== 'none' && effect.kind !== 'other')) {
    const problem = orderNumberProblem(outTradeNo)
    if (problem !== null) refuse('malformed_body', `out_trade_no ${problem}`)
  }
  // Neither provider takes a payment of nothing: a 0 here is a forgery or a parsing slip.
  if (effect.kind === 'payment' && effect.amount <= 0) refuse('malformed_body', 'payment amount must be at least 1 fen')
  // Nor a refund of nothing (a refund request is for at least 1 fen): it would mark a paid order refunded in part.
  if (effect.kind === 'refund' && effect.amount !== null && effect.amount <= 0)
    refuse('malformed_body', 'refund amount must be at least 1 fen')
  return notification
}

/** Each sub-order of a combined payment obeys the same rules, and names an order of its own. */
function checkSubOrders(notification: VerifiedNotification, subOrders: readonly VerifiedNotification[]): VerifiedNotification {
  if (subOrders.length === 0) refuse('malformed_body', 'a combined payment names no sub-order')
  const orders = new Set<string>()
  for (const subOrder of subOrders) {
    if (subOrder.effect.kind === 'combined') refuse('malformed_body', 'a sub-order cannot be a combined payment')
    checkFacts(subOrder)
    // Two sub-orders of one order would share a dedupe id: the second would be taken for a retry of the first.
    if (orders.has(subOrder.outTradeNo)) refuse('malformed_body', 'two sub-orders name the same out_trade_no')
    orders.add(subOrder.outTradeNo)
  }
  return notification
}
