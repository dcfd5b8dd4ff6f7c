/**
 * @module One provider order query on behalf of an order object: loads the merchant's keys, picks
 * the provider's client, asks (once more after a key download when the answer names an unknown serial), and turns
 * every outcome into what the reconciler records. Never throws.
 * The object's gateway's registry says which clients there are.
 */
import { withKeyDownloadRetry } from '../merchants/downloaded-keys'
import { loadVersionedMerchant, type VersionedMerchant } from '../merchants/store'
import { QueryFailed, type ProviderRegistry, type VerifiedNotification } from '../providers'
import type { OrderRow } from '../storage/order'

export interface QueryAnswer {
  /** The verified fact to apply like a notification, when the provider reported one. */
  notification: VerifiedNotification | null
  /** A few words for the audit of this order's queries. */
  summary: string
  /** True when asking again would not help (no query keys configured). */
  final: boolean
  /**
   * The merchant's keys allow no query of this provider (or of this order's combined payment): its payments are
   * forwarded as notified.
   */
  noQueryKeys?: true
  /** The provider's signed answer says the order is not paid (or closed unpaid). */
  notPaid?: true
}

/**
 * The merchant whose keys a query (of an order or of a refund) uses, with its version; or, when it cannot be had, the
 * answer that says why. Its downloaded keys are added to it by `withKeyDownloadRetry` around the query: answers may be
 * signed with one (a WeChat Pay platform certificate), or with one so new that only a download brings it.
 */
export async function queryingMerchant(env: Env, merchantId: string): Promise<{ merchant: VersionedMerchant } | { answer: QueryAnswer }> {
  let merchant: VersionedMerchant | null
  try {
    merchant = await loadVersionedMerchant(env, merchantId)
  } catch {
    return { answer: { notification: null, summary: 'failed: merchant unavailable', final: false } }
  }
  if (merchant === null) return { answer: { notification: null, summary: 'failed: merchant unknown', final: true } }
  return { merchant }
}

export async function queryProvider(env: Env, registry: ProviderRegistry, order: OrderRow, now: number): Promise<QueryAnswer> {
  const found = await queryingMerchant(env, order.merchantId)
  if ('answer' in found) return found.answer
  const { merchant } = found
  // A combined payment's sub-order only through its combine: the ordinary query is never asked about it.
  const combine = order.combinedPayment
  const client = registry.queryClientFor(merchant.config, order.provider, combine)
  if (client === null) {
    // A combine no channel can ask about (a v2 one) is no matter of keys: adding them would not help.
    const keysWouldHelp = combine === undefined || registry.queriesCombined(order.provider, combine)
    const summary = keysWouldHelp ? 'not configured: no query keys for this provider' : 'not queried: no query of its combined payment'
    return { notification: null, summary, final: true, noQueryKeys: true }
  }
  try {
    const options = { now, ...(combine === undefined ? {} : { combinedPayment: combine }) }
    const result = await withKeyDownloadRetry(env, registry, merchant, now, { provider: client.provider }, (keyed) =>
      client.queryOrder(keyed, order.outTradeNo, options),
    )
    switch (result.kind) {
      case 'paid':
      case 'refunded':
        return { notification: result.notification, summary: `${client.channel} ${result.kind}`, final: false }
      // Closed unpaid: as "not paid" for a payment notification awaiting confirmation.
      case 'closed':
        return { notification: result.notification, summary: `${client.channel} ${result.kind}`, final: false, notPaid: true }
      case 'not_paid':
        return { notification: null, summary: `${client.channel} not paid: ${result.providerStatus}`, final: false, notPaid: true }
      default: {
        const unreachable: never = result
        throw new TypeError(`unknown query result ${String(unreachable)}`)
      }
    }
  } catch (error) {
    if (error instanceof QueryFailed) return { notification: null, summary: `${client.channel} failed: ${error.reason}`, final: false }
    // The order number cannot go into the provider's API (checkOutTradeNo): asking again will not help.
    if (error instanceof RangeError) return { notification: null, summary: `${client.channel} not queried: ${error.message}`, final: true }
    return { notification: null, summary: `${client.channel} failed: unexpected error`, final: false }
  }
}
