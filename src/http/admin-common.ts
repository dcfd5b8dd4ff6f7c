/** @module What the admin handlers share: the merchant and order number a path names, providers by name, order views. */
import { isMerchantId } from '../merchants/schema'
import { loadVersionedMerchant, type VersionedMerchant } from '../merchants/store'
import type { MerchantConfig } from '../merchants/types'
import { orderStub } from '../order/order-key'
import type { ForwardSettings, OrderSnapshot } from '../order/order-object'
import { orderNumberProblem, type ProviderName, type ProviderRegistry } from '../providers'
import { AdminError } from './responses'

export async function requireMerchant(env: Env, merchantId: string): Promise<VersionedMerchant> {
  // Fresh: an admin action right after a save must use the settings just saved.
  const merchant = isMerchantId(merchantId) ? await loadVersionedMerchant(env, merchantId, { fresh: true }) : null
  // The id is echoed only when it is one: anything else is not repeated back.
  if (merchant === null)
    throw new AdminError('not_found', isMerchantId(merchantId) ? `merchant ${merchantId} does not exist` : 'no such merchant')
  return merchant
}

/** The notify path's rule: every order number a notification can create is one the admin API accepts. */
export function requireOutTradeNo(outTradeNo: string, field = 'outTradeNo'): string {
  const problem = orderNumberProblem(outTradeNo)
  if (problem !== null) throw new AdminError('invalid_request', `${field}: ${problem}`)
  return outTradeNo
}

export function forwardSettings({ config, version }: VersionedMerchant): ForwardSettings {
  return { forward: config.forward, version }
}

/** The providers an order may be paid through: the one named, else every one the merchant has. */
export function candidateProviders(registry: ProviderRegistry, merchant: MerchantConfig, named: ProviderName | null): ProviderName[] {
  return named !== null ? [named] : registry.configuredProviders(merchant)
}

/** A provider named by itself or by one of its channels (`channel`, `provider` fields and parameters). */
export function readProvider(registry: ProviderRegistry, value: unknown, field: string): ProviderName | null {
  if (value === undefined || value === null) return null
  const provider = typeof value === 'string' ? registry.providerNamed(value) : undefined
  if (provider !== undefined) return provider
  const names = new Set([...registry.providerNames(), ...registry.channels.map((adapter) => adapter.channel)])
  throw new AdminError('invalid_request', `${field}: one of ${[...names].join(', ')}`)
}

/** The order's views in each provider's object (an order number may exist for several), those that exist. */
export async function orderSnapshots(
  env: Env,
  registry: ProviderRegistry,
  merchant: MerchantConfig,
  outTradeNo: string,
  named: ProviderName | null,
): Promise<OrderSnapshot[]> {
  const snapshots = await Promise.all(
    candidateProviders(registry, merchant, named).map((provider) =>
      orderStub(env, { merchantId: merchant.id, provider, outTradeNo }).snapshot(),
    ),
  )
  return snapshots.flatMap((s) => (s === null ? [] : [s]))
}
