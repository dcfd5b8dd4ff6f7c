/** @module Runs one channel adapter over a raw callback: parse → verify → normalize. */
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
  return adapter.normalize(verified, config)
}
