/**
 * @module One provider refund query on behalf of an order object: loads the merchant's keys, picks the
 * provider's refund-query client, and turns every outcome into what the refund's record keeps. Never throws.
 */
import { loadMerchant } from '../merchants/store'
import type { MerchantConfig } from '../merchants/types'
import { defaultRegistry, QueryFailed, type VerifiedNotification } from '../providers'
import type { OrderRow, RefundRow } from '../storage/order'

export interface RefundAnswer {
  /** The verified refund to apply like its notification, when the provider reported it settled. */
  notification: VerifiedNotification | null
  /** A few words for the refund's record. */
  summary: string
  /** True when asking again would not help (no refund-query keys). */
  final: boolean
}

export async function queryRefund(env: Env, order: OrderRow, refund: RefundRow, now: number): Promise<RefundAnswer> {
  let merchant: MerchantConfig | null
  try {
    merchant = await loadMerchant(env, order.merchantId)
  } catch {
    return { notification: null, summary: 'failed: merchant unavailable', final: false }
  }
  if (merchant === null) return { notification: null, summary: 'failed: merchant unknown', final: true }
  const client = defaultRegistry.refundQueryClientFor(merchant, order.provider)
  if (client === null) return { notification: null, summary: 'not configured: no refund-query keys for this provider', final: true }
  try {
    const result = await client.queryRefund(merchant, { outTradeNo: order.outTradeNo, outRefundNo: refund.outRefundNo }, { now })
    if (result.kind === 'unsettled') {
      return { notification: null, summary: `${client.channel} unsettled: ${result.providerStatus}`, final: false }
    }
    return { notification: result.notification, summary: `${client.channel} ${result.notification.effect.outcome}`, final: false }
  } catch (error) {
    if (error instanceof QueryFailed) return { notification: null, summary: `${client.channel} failed: ${error.reason}`, final: false }
    return { notification: null, summary: `${client.channel} failed: unexpected error`, final: false }
  }
}
