/**
 * @module Refunds opened by a key other merchants of the gateway may hold: a WeChat Pay v2 refund names its merchant only
 * in its unsigned envelope, and a service provider saved as a direct merchant shares its key with its sub-merchants.
 */
import { errorSummary, log } from '../lib/log'
import type { VerifiedNotification } from '../providers'
import { claimedByOthersUnder } from './identities'

/**
 * A refund opened by a key other merchants may hold (`keySharedUnder`) names its merchant unsigned when another
 * merchant does claim an identity under it, or when D1 cannot tell: it proves no payment then, and applies only to the
 * order's recorded transaction (safe either way; a refund it cannot apply waits for the payment, or for WeChat's resend).
 */
export async function withKeySharing(
  db: D1Database,
  merchantId: string,
  notification: VerifiedNotification,
): Promise<VerifiedNotification> {
  const { effect } = notification
  if (effect.kind !== 'refund' || effect.keySharedUnder === undefined) return notification
  let shared = true
  try {
    shared = await claimedByOthersUnder(db, merchantId, notification.provider, effect.keySharedUnder)
  } catch (error) {
    const fields = { merchant_id: merchantId, channel: notification.channel, out_trade_no: notification.outTradeNo }
    log('warn', { event: 'merchant.identities_unavailable', ...fields, error: errorSummary(error) })
  }
  const { keySharedUnder: _shared, ...refund } = effect
  return { ...notification, effect: shared ? { ...refund, payment: null, recipientUnsigned: true } : refund }
}
