/**
 * @module Admin endpoints for one order: register its amount, ask the provider now, read it. Order
 * state is read from the order objects themselves (read-your-writes).
 */
import type { ForwardedEvent } from '../order/events'
import { orderStub, type OrderRef } from '../order/order-key'
import type { ProviderRegistry } from '../providers'
import { candidateProviders, forwardSettings, orderSnapshots, readProvider, requireMerchant, requireOutTradeNo } from './admin-common'
import { AdminError, json, readJsonBody } from './responses'

export async function putOrder(
  request: Request,
  env: Env,
  merchantId: string,
  outTradeNo: string,
  registry: ProviderRegistry,
): Promise<Response> {
  const versioned = await requireMerchant(env, merchantId)
  const merchant = versioned.config
  requireOutTradeNo(outTradeNo)
  const body = await readJsonBody(request)
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AdminError('invalid_request', 'body: must be a JSON object')
  const input = body as Record<string, unknown>
  for (const key of Object.keys(input)) {
    if (!['amount', 'currency', 'channel', 'provider', 'expires_at'].includes(key))
      throw new AdminError('invalid_request', `${key}: unknown field`)
  }
  const { amount } = input
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new AdminError('invalid_request', 'amount: must be a positive integer in minor units (fen)')
  }
  const currency = input.currency ?? 'CNY'
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))
    throw new AdminError('invalid_request', 'currency: must be an ISO 4217 code such as CNY')
  const expiresAt = readExpiry(input.expires_at)
  const named = readProvider(registry, input.channel, 'channel') ?? readProvider(registry, input.provider, 'provider')
  const providers = candidateProviders(registry, merchant, named)
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

/** Optional ISO-8601 instant after which the order can no longer be paid: queries stop there. */
function readExpiry(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined
  const ms = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms)) throw new AdminError('invalid_request', 'expires_at: must be an ISO-8601 instant such as 2026-11-25T12:00:00Z')
  if (ms <= Date.now()) throw new AdminError('invalid_request', 'expires_at: must be in the future')
  return ms
}

/** Asks the provider about the order now; its signed answer is applied like a notification. */
export async function syncOrder(
  request: Request,
  env: Env,
  merchantId: string,
  outTradeNo: string,
  registry: ProviderRegistry,
): Promise<Response> {
  const versioned = await requireMerchant(env, merchantId)
  requireOutTradeNo(outTradeNo)
  const named = readProvider(registry, new URL(request.url).searchParams.get('provider') ?? undefined, 'provider')
  const providers = candidateProviders(registry, versioned.config, named)
  if (providers.length === 0) throw new AdminError('invalid_request', 'provider: the merchant has no such provider configured')
  const results = await Promise.all(
    providers.map(async (provider) => {
      const ref: OrderRef = { merchantId, provider, outTradeNo }
      return { provider, ...(await orderStub(env, ref).sync(ref, forwardSettings(versioned))) }
    }),
  )
  return json({ out_trade_no: outTradeNo, results })
}

export async function getOrder(
  request: Request,
  env: Env,
  merchantId: string,
  outTradeNo: string,
  registry: ProviderRegistry,
): Promise<Response> {
  const merchant = (await requireMerchant(env, merchantId)).config
  requireOutTradeNo(outTradeNo)
  const named = readProvider(registry, new URL(request.url).searchParams.get('provider') ?? undefined, 'provider')
  const snapshots = await orderSnapshots(env, registry, merchant, outTradeNo, named)
  // The same order number registered for both providers: show the one that saw activity.
  const best = snapshots.find((s) => s.notifications.length > 0) ?? snapshots[0]
  if (best === undefined) throw new AdminError('not_found', `order ${outTradeNo} is not known`)
  return json({ ...best, events: best.events.map(({ body, ...event }) => ({ ...event, data: (JSON.parse(body) as ForwardedEvent).data })) })
}
