/** @module Runs one channel adapter over a raw callback: parse → verify → normalize. */
import type { MerchantConfig } from '../merchants/types'
import type { ChannelAdapter, RawNotification, VerifiedNotification } from './types'

/** Throws `NotifyRejection` with the precise reason when any step refuses the callback. */
export async function verifyNotification<W, V>(
  adapter: ChannelAdapter<W, V>,
  raw: RawNotification,
  merchant: MerchantConfig,
  now: number,
): Promise<VerifiedNotification> {
  const wire = adapter.parse(raw)
  const verified = await adapter.verify(wire, merchant, now)
  return adapter.normalize(verified, merchant)
}
