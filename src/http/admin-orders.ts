/**
 * @module Admin endpoints for one order: register its amount, ask the provider now, read it. Order
 * state is read from the order objects themselves (read-your-writes).
 */
import type { ForwardedEvent } from '../order/events'
import type { OrderSnapshot } from '../order/order-object'
import { orderStub, type OrderRef } from '../order/order-key'
import { candidateProviders, forwardSettings, orderSnapshots, requireMerchant } from './admin-common'
import type { ProviderRegistry } from '../providers'
import type { CombinedPaymentRef, ProviderName } from '../providers/core/types'
import { AdminError, json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'

type Routes = AdminRoutes

export const putOrder: Handler<Routes['putOrder']> = async ({ params, body, env, registry }) => {
  const { merchantId, outTradeNo } = params
  const versioned = await requireMerchant(env, merchantId)
  const { amount } = body
  const currency = body.currency ?? 'CNY'
  const expiresAt = body.expires_at === undefined || body.expires_at === null ? undefined : Date.parse(body.expires_at)
  if (expiresAt !== undefined && expiresAt <= Date.now()) throw new AdminError('invalid_request', 'expires_at: must be in the future')
  const named = body.channel ?? body.provider ?? null
  const combineNo = body.combine_out_trade_no
  const providers = combinedIn(registry, candidateProviders(registry, versioned.config, named), combineNo)
  if (providers.length === 0) throw new AdminError('invalid_request', 'channel: the merchant has no such provider configured')

  const results = await Promise.all(
    providers.map(({ provider, combinedPayment }) => {
      const ref: OrderRef = { merchantId, provider, outTradeNo }
      return orderStub(env, ref).register(ref, forwardSettings(versioned), {
        amount,
        currency,
        ...(expiresAt === undefined ? {} : { expiresAt }),
        ...(combinedPayment === undefined ? {} : { combinedPayment }),
      })
    }),
  )
  const conflict = results.find((r) => r.conflict !== null)
  if (conflict) throw new AdminError('conflict', conflict.conflict!)
  const registered = { out_trade_no: outTradeNo, amount, currency, providers: providers.map((p) => p.provider), status: results[0]!.status }
  return json({ ...registered, ...(combineNo === undefined ? {} : { combine_out_trade_no: combineNo }) }, 200)
}

/**
 * The providers an order is registered or synced with, each with the combine the admin named (a WeChat Pay 合单
 * sub-order): only providers whose combined payments can be asked about, and an error naming the field if none can.
 */
function combinedIn(
  registry: ProviderRegistry,
  providers: readonly ProviderName[],
  combineNo: string | undefined,
): { provider: ProviderName; combinedPayment?: CombinedPaymentRef }[] {
  if (combineNo === undefined) return providers.map((provider) => ({ provider }))
  const combined = providers.flatMap((provider) => {
    const combinedPayment = registry.combinedPaymentOf(provider, combineNo)
    return combinedPayment === null ? [] : [{ provider, combinedPayment }]
  })
  if (combined.length === 0 && providers.length > 0) {
    throw new AdminError('invalid_request', `combine_out_trade_no: ${providers.join(', ')} has no combined payments to ask about`)
  }
  return combined
}

/** Asks the provider about the order now; its signed answer is applied like a notification. */
export const syncOrder: Handler<Routes['syncOrder']> = async ({ params, query, env, registry }) => {
  const { merchantId, outTradeNo } = params
  const versioned = await requireMerchant(env, merchantId)
  const named = candidateProviders(registry, versioned.config, query.provider ?? null)
  const providers = combinedIn(registry, named, query.combine_out_trade_no)
  if (providers.length === 0) throw new AdminError('invalid_request', 'provider: the merchant has no such provider configured')
  const results = await Promise.all(
    providers.map(async ({ provider, combinedPayment }) => {
      const ref: OrderRef = { merchantId, provider, outTradeNo }
      const synced = await orderStub(env, ref).sync(ref, forwardSettings(versioned), combinedPayment)
      if (synced.conflict !== undefined) throw new AdminError('conflict', synced.conflict)
      return { provider, ...synced }
    }),
  )
  return json({ out_trade_no: outTradeNo, results })
}

export const getOrder: Handler<Routes['getOrder']> = async ({ params, query, env, registry }) => {
  const { merchantId, outTradeNo } = params
  const merchant = (await requireMerchant(env, merchantId)).config
  // Every provider's, so the others are named: the same order number with several providers (registered for both,
  // or paid twice) is never hidden behind the one shown. Without `?provider=`, the one with the latest activity.
  const named = query.provider
  // The named one too: a provider the merchant no longer configures may still hold the order.
  const providers = new Set([...candidateProviders(registry, merchant, null), ...(named === undefined ? [] : [named])])
  const snapshots = await orderSnapshots(env, merchant, outTradeNo, [...providers])
  const active = snapshots.filter((s) => s.notifications.length > 0)
  const best =
    named !== undefined
      ? snapshots.find((s) => s.provider === named)
      : (active.length > 0 ? active : snapshots).reduce<OrderSnapshot | undefined>(
          (latest, s) => (latest === undefined || s.updated_at > latest.updated_at ? s : latest),
          undefined,
        )
  if (best === undefined) throw new AdminError('not_found', `order ${outTradeNo} is not known`)
  return json({
    ...best,
    events: best.events.map(({ body, ...event }) => ({ ...event, data: (JSON.parse(body) as ForwardedEvent).data })),
    other_providers: snapshots.filter((s) => s !== best).map((s) => s.provider),
  })
}
