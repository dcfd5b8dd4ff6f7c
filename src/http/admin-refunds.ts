/**
 * @module `PUT /admin/merchants/{merchantId}/orders/{outTradeNo}/refunds/{outRefundNo}`: registers a
 * refund the merchant asked the provider for, with its amount. The order object settles a held
 * notification of it with that amount and queries the provider until the refund is settled.
 */
import type { VersionedMerchant } from '../merchants/store'
import { orderStub, type OrderRef } from '../order/order-key'
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
  const refs: OrderRef[] = providers.map((p) => ({ merchantId, provider: p, outTradeNo }))
  // Every chosen order object judges the refund before any registers it, so a refusal by one changes none of them.
  // Not atomic across them: each is its own Durable Object and no transaction spans objects. When an order changes
  // between its check and its registration (a notification or another registration in between), its registration
  // re-judges inside its own transaction, writes nothing and the answer is still 409, but the other providers'
  // orders may have registered the refund by then.
  const conflicts = await Promise.all(refs.map((ref) => orderStub(env, ref).refundConflict({ outRefundNo, amount })))
  const conflict = conflicts.find((c): c is string => c !== null)
  if (conflict !== undefined) throw new AdminError('conflict', conflict)
  const results = await Promise.all(
    refs.map((ref) => {
      const canQueryRefunds = registry.refundQueryClientFor(merchant.config, ref.provider) !== null
      return orderStub(env, ref).registerRefund(ref, settings, { outRefundNo, amount, canQueryRefunds })
    }),
  )
  const registered = results.map((result) => {
    if (result.conflict !== null) throw new AdminError('conflict', result.conflict)
    return result
  })
  const first = registered[0]!
  return json({
    out_trade_no: outTradeNo,
    out_refund_no: outRefundNo,
    amount,
    providers,
    status: first.refundStatus,
    order_status: first.status,
  })
}
