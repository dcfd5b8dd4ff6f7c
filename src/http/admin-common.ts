/** @module What the admin handlers share: the merchant a path names, its forward settings, the providers an order may have, order views. */
import { isMerchantId } from '../merchants/schema'
import { loadVersionedMerchant, type VersionedMerchant } from '../merchants/store'
import type { MerchantConfig } from '../merchants/types'
import { orderStub } from '../order/order-key'
import { subjectStub } from '../order/subject-key'
import type { ForwardSettings, OrderSnapshot } from '../order/order-object'
import type { ProviderName, ProviderRegistry } from '../providers'
import type { EndpointHealthRow } from '../storage/monitor'
import type { DeliveryHolder } from '../storage/order'
import type { StoredObjectRow } from '../storage/stored-objects'
import { AdminError } from './responses'

export async function requireMerchant(env: Env, merchantId: string): Promise<VersionedMerchant> {
  // Fresh: an admin action right after a save must use the settings just saved.
  const merchant = isMerchantId(merchantId) ? await loadVersionedMerchant(env, merchantId, { fresh: true }) : null
  // The id is echoed only when it is one: anything else is not repeated back.
  if (merchant === null)
    throw new AdminError('not_found', isMerchantId(merchantId) ? `merchant ${merchantId} does not exist` : 'no such merchant')
  return merchant
}

/**
 * While the endpoint is disabled nothing is sent to the merchant (contract: endpoint lifecycle), by an operator's
 * action either: `action` says what would have been sent, for the 409's message.
 */
export function requireEnabledEndpoint(merchant: VersionedMerchant, action: string): void {
  if (merchant.config.forward.disabledAt !== undefined) {
    throw new AdminError('conflict', `the endpoint is disabled: enable it first (POST …/endpoint/enable), then ${action}`)
  }
}

/** A window whose `until` is not after its `since` holds nothing by mistake: 400 on every endpoint that takes one. */
export function requireOrderedWindow(since: string | null | undefined, until: string | null | undefined): void {
  if (since != null && until != null && until <= since) throw new AdminError('invalid_request', 'until: must be after since')
}

export function forwardSettings({ config, version }: VersionedMerchant): ForwardSettings {
  return { forward: config.forward, version }
}

/** The providers an order may be paid through: the one named, else every one the merchant has. */
export function candidateProviders(registry: ProviderRegistry, merchant: MerchantConfig, named: ProviderName | null): ProviderName[] {
  return named !== null ? [named] : registry.configuredProviders(merchant)
}

/** The order's views in these providers' objects (an order number may exist for several), those that exist. */
export async function orderSnapshots(
  env: Env,
  merchant: MerchantConfig,
  outTradeNo: string,
  providers: readonly ProviderName[],
): Promise<OrderSnapshot[]> {
  const snapshots = await Promise.all(
    providers.map((provider) => orderStub(env, { merchantId: merchant.id, provider, outTradeNo }).snapshot()),
  )
  return snapshots.flatMap((s) => (s === null ? [] : [s]))
}

/** The object D1 names in a row: an order's, or a subject's (provider notifications about no order). */
export function storedObject(env: Env, merchantId: string, row: StoredObjectRow) {
  const { provider } = row
  return row.subject_key !== null
    ? subjectStub(env, { merchantId, provider, subjectKey: row.subject_key })
    : orderStub(env, { merchantId, provider, outTradeNo: row.out_trade_no ?? '' })
}

/** The object a delivery id names; null when the id is not one of that namespace's (workerd checks: ids carry a MAC). */
export function deliveryHolderStub(env: Env, holder: DeliveryHolder) {
  const reach = <T extends Rpc.DurableObjectBranded>(namespace: DurableObjectNamespace<T>) => {
    try {
      return namespace.get(namespace.idFromString(holder.objectId))
    } catch {
      return null
    }
  }
  return holder.kind === 'order' ? reach(env.ORDERS) : reach(env.SUBJECTS)
}

/** Objects an admin call works through at once: enough to be quick, few enough to stay polite. */
const OBJECTS_AT_ONCE = 6

/** `call` on the object of each row, a few at a time: the results in the rows' order (the first failure rejects). */
export async function callStoredObjects<R>(
  env: Env,
  merchantId: string,
  rows: readonly StoredObjectRow[],
  call: (object: ReturnType<typeof storedObject>) => Promise<R>,
): Promise<R[]> {
  const results: R[] = []
  for (let i = 0; i < rows.length; i += OBJECTS_AT_ONCE) {
    results.push(...(await Promise.all(rows.slice(i, i + OBJECTS_AT_ONCE).map((row) => call(storedObject(env, merchantId, row))))))
  }
  return results
}

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

/** What a merchant's monitor knows of its endpoint, as the admin API shows it: failing since when, last success and failure. */
export function endpointHealthTimes(health: EndpointHealthRow | null) {
  return {
    failing_since: isoOrNull(health?.failingSince ?? null),
    last_failure_at: isoOrNull(health?.lastFailureAt ?? null),
    last_success_at: isoOrNull(health?.lastSuccessAt ?? null),
  }
}
