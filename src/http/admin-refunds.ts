/**
 * @module `PUT /admin/merchants/{merchantId}/orders/{outTradeNo}/refunds/{outRefundNo}`: registers a
 * refund the merchant asked the provider for, with its amount. The order object settles a held
 * notification of it with that amount and queries the provider until the refund is settled.
 */
import type { VersionedMerchant } from '../merchants/store'
import { orderStub, type OrderRef } from '../order/order-key'
import type { RefundRegistration } from '../order/order-object'
import type { ProviderName, ProviderRegistry } from '../providers'
import { requireMerchant } from './admin-common'
import { AdminError, json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'

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

export const putRefund: Handler<AdminRoutes['putRefund']> = async ({ params, body, env, registry }) => {
  const { merchantId, outTradeNo, outRefundNo } = params
  const merchant = await requireMerchant(env, merchantId)
  const { amount } = body
  // The spec has read `channel` or `provider` as a provider's name: it must be one this merchant has.
  const named = body.channel ?? body.provider ?? null
  if (named !== null && !registry.configuredProviders(merchant.config).includes(named)) {
    throw new AdminError('invalid_request', `${body.channel == null ? 'provider' : 'channel'}: not a provider this merchant has`)
  }
  const provider: ProviderName | null = named
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
