/**
 * @module One provider refund query on behalf of an order object: the merchant's keys as an order query has them
 * (downloaded ones included, and downloaded afresh for an answer naming an unknown serial), the provider's
 * refund-query client, and every outcome turned into what the refund's record keeps. Never throws.
 */
import { withKeyDownloadRetry } from '../merchants/downloaded-keys'
import { QueryFailed, type ProviderRegistry } from '../providers'
import type { OrderRow, RefundRow } from '../storage/order'
import { queryingMerchant, type QueryAnswer } from './provider-query'

/** The verified refund to apply like its notification when the provider reported it settled, and a few words for the refund's record. */
export async function queryRefund(
  env: Env,
  registry: ProviderRegistry,
  order: OrderRow,
  refund: RefundRow,
  now: number,
): Promise<QueryAnswer> {
  const found = await queryingMerchant(env, order.merchantId)
  if ('answer' in found) return found.answer
  const { merchant } = found
  const client = registry.refundQueryClientFor(merchant.config, order.provider)
  if (client === null) return { notification: null, summary: 'not configured: no refund-query keys for this provider', final: true }
  try {
    // The order's currency goes with the question: an answer may state amounts in it without naming it.
    const ref = { outTradeNo: order.outTradeNo, outRefundNo: refund.outRefundNo, currency: order.currency ?? order.expectedCurrency }
    const result = await withKeyDownloadRetry(env, registry, merchant, now, { provider: client.provider }, (keyed) =>
      client.queryRefund(keyed, ref, { now }),
    )
    if (result.kind === 'unsettled') {
      return { notification: null, summary: `${client.channel} unsettled: ${result.providerStatus}`, final: false }
    }
    return { notification: result.notification, summary: `${client.channel} ${result.notification.effect.outcome}`, final: false }
  } catch (error) {
    if (error instanceof QueryFailed) return { notification: null, summary: `${client.channel} failed: ${error.reason}`, final: false }
    return { notification: null, summary: `${client.channel} failed: unexpected error`, final: false }
  }
}
