/** @module Runs one channel adapter over a raw callback: parse → verify → normalize. */
import { orderNumberProblem } from './order-number'
import { refuse } from './rejection'
import type { ChannelAdapter, MerchantSections, RawNotification, VerifiedNotification } from './types'

/**
 * Hands the adapter its provider's section of the merchant config. Throws `NotifyRejection` with
 * the precise reason when any step refuses the callback.
 */
export async function verifyNotification<Config>(
  adapter: ChannelAdapter<Config>,
  raw: RawNotification,
  merchant: MerchantSections,
  now: number,
): Promise<VerifiedNotification> {
  const config = (Object.hasOwn(merchant, adapter.provider) ? merchant[adapter.provider] : undefined) as Config | undefined
  const wire: unknown = adapter.parse(raw)
  const verified: unknown = await adapter.verify(wire, config, now)
  return checkFacts(await adapter.normalize(verified, config))
}

/** The rules every channel's facts obey, whatever the provider's own format allows. */
function checkFacts(notification: VerifiedNotification): VerifiedNotification {
  const { outTradeNo, effect } = notification
  // Only a message about no order at all (an unsigned v2 FAIL, a transfer or complaint) names none.
  if (outTradeNo !== '' || (effect.kind !== 'none' && effect.kind !== 'other')) {
    const problem = orderNumberProblem(outTradeNo)
    if (problem !== null) refuse('malformed_body', `out_trade_no ${problem}`)
  }
  // Neither provider takes a payment of nothing: a 0 here is a forgery or a parsing slip.
  if (effect.kind === 'payment' && effect.amount <= 0) refuse('malformed_body', 'payment amount must be at least 1 fen')
  return notification
}
