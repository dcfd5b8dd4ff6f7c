/**
 * @module Admin endpoints for one order: register its amount, ask the provider now, read it. Order
 * state is read from the order objects themselves (read-your-writes).
 */
import type { ForwardedEvent } from '../order/events'
import type { OrderSnapshot } from '../order/order-object'
import { orderStub, type OrderRef } from '../order/order-key'
import { candidateProviders, forwardSettings, orderSnapshots, requireMerchant } from './admin-common'
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
  const providers = candidateProviders(registry, versioned.config, named)
  if (providers.length === 0) throw new AdminError('invalid_request', 'channel: the merchant has no such provider configured')

  const results = await Promise.all(
    providers.map((provider) => {
      const ref: OrderRef = { merchantId, provider, outTradeNo }
      return orderStub(env, ref).register(ref, forwardSettings(versioned), {
        amount,
        currency,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      })
    }),
  )
  const conflict = results.find((r) => r.conflict !== null)
  if (conflict) throw new AdminError('conflict', conflict.conflict!)
  return json({ out_trade_no: outTradeNo, amount, currency, providers, status: results[0]!.status }, 200)
}

/** Asks the provider about the order now; its signed answer is applied like a notification. */
export const syncOrder: Handler<Routes['syncOrder']> = async ({ params, query, env, registry }) => {
  const { merchantId, outTradeNo } = params
  const versioned = await requireMerchant(env, merchantId)
  const providers = candidateProviders(registry, versioned.config, query.provider ?? null)
  if (providers.length === 0) throw new AdminError('invalid_request', 'provider: the merchant has no such provider configured')
  const results = await Promise.all(
    providers.map(async (provider) => {
      const ref: OrderRef = { merchantId, provider, outTradeNo }
      return { provider, ...(await orderStub(env, ref).sync(ref, forwardSettings(versioned))) }
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
