/**
 * @module `PUT /admin/merchants/{merchantId}/orders/{outTradeNo}/refunds/{outRefundNo}`: registers a
 * refund the merchant asked the provider for, with its amount. The order object settles a held
 * notification of it with that amount and queries the provider until the refund is settled.
 */
import type { VersionedMerchant } from '../merchants/store'
import { orderStub, type OrderRef } from '../order/order-key'
import type { RefundRegistration } from '../order/order-object'
import type { ProviderName, ProviderRegistry } from '../providers'
import { requireMerchant, requireOutTradeNo } from './admin-common'
import { AdminError, json, readJsonBody } from './responses'

/** The providers the refund is registered with: the one named, else those whose order object knows the order, else all. */
async function providersFor(
  env: Env,
  registry: ProviderRegistry,
  merchant: VersionedMerchant,
  outTradeNo: string,
  named: ProviderName | null,
): Promise<ProviderName[]> {
  if (named !== null) return [named]
  const configured = registry.configuredProviders(merchant.config)
  const known = await Promise.all(
    configured.map(async (provider) =>
      (await orderStub(env, { merchantId: merchant.config.id, provider, outTradeNo }).snapshot()) === null ? [] : [provider],
    ),
  )
  const withOrder = known.flat()
  return withOrder.length > 0 ? withOrder : configured
}

export async function putRefund(
  request: Request,
  env: Env,
  params: { merchantId: string; outTradeNo: string; outRefundNo: string },
  registry: ProviderRegistry,
): Promise<Response> {
  const { merchantId } = params
  const merchant = await requireMerchant(env, merchantId)
  // Refund numbers follow the order-number rule: what a notification may carry, the API can name.
  const outTradeNo = requireOutTradeNo(params.outTradeNo, 'outTradeNo')
  const outRefundNo = requireOutTradeNo(params.outRefundNo, 'outRefundNo')
  const body = await readJsonBody(request)
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AdminError('invalid_request', 'body: must be a JSON object')
  const input = body as Record<string, unknown>
  for (const key of Object.keys(input)) {
    if (!['amount', 'channel', 'provider'].includes(key)) throw new AdminError('invalid_request', `${key}: unknown field`)
  }
  const { amount } = input
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new AdminError('invalid_request', 'amount: must be a positive integer in minor units (fen)')
  }
  const named = input.channel ?? input.provider
  let provider: ProviderName | null = null
  if (named !== undefined && named !== null) {
    const found = typeof named === 'string' ? registry.providerNamed(named) : undefined
    if (found === undefined || !registry.configuredProviders(merchant.config).includes(found)) {
      throw new AdminError('invalid_request', `${input.channel === undefined ? 'provider' : 'channel'}: not a provider this merchant has`)
    }
    provider = found
  }
  const providers = await providersFor(env, registry, merchant, outTradeNo, provider)
  if (providers.length === 0) throw new AdminError('invalid_request', 'channel: the merchant has no provider configured')
  const settings = { forward: merchant.config.forward, version: merchant.version }
  const results = await Promise.all(
    providers.map(async (p) => {
      const ref: OrderRef = { merchantId, provider: p, outTradeNo }
      const canQueryRefunds = registry.refundQueryClientFor(merchant.config, p) !== null
      const registered: RefundRegistration = await orderStub(env, ref).registerRefund(ref, settings, {
        outRefundNo,
        amount,
        canQueryRefunds,
      })
      return registered
    }),
  )
  const conflict = results.find((r) => r.conflict !== null)
  if (conflict) throw new AdminError('conflict', conflict.conflict!)
  const first = results[0]!
  return json({
    out_trade_no: outTradeNo,
    out_refund_no: outRefundNo,
    amount,
    providers,
    status: first.refund.status,
    order_status: first.status,
  })
}
