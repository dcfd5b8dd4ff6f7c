/**
 * @module Downloaded provider keys as the Worker uses them: read sealed from the merchant's replica and opened,
 * cached per isolate like merchant configs, and added to the merchant's sections for verification. A
 * notification naming a serial no key has gets a second chance: one on-demand download (rate-limited by the
 * replica), then verification again; still unknown, it gets a reply that makes the provider retry.
 */
import { log } from '../lib/log'
import { masterKeyring } from './master-keys'
import {
  NotifyRejection,
  verifyNotification,
  type ChannelAdapter,
  type DownloadedKey,
  type KeyDownload,
  type ProviderRegistry,
  type RawNotification,
  type VerifiedNotification,
} from '../providers'
import { openKeys, type SealedDownloadedKey } from './key-downloader'
import { merchantReplica } from './merchant-replica'
import type { MerchantConfig } from './types'

/** Same as the merchant cache: keys downloaded through another isolate reach this one within this time. */
const CACHE_TTL_MS = 30_000
const MAX_CACHED_MERCHANTS = 256

interface CachedKeys {
  byProvider: ReadonlyMap<string, readonly DownloadedKey[]>
  loadedAt: number
}

const keysByMerchant = new Map<string, CachedKeys>()

function remember(merchantId: string, entry: CachedKeys): void {
  keysByMerchant.delete(merchantId)
  if (keysByMerchant.size >= MAX_CACHED_MERCHANTS) keysByMerchant.delete(keysByMerchant.keys().next().value!)
  keysByMerchant.set(merchantId, entry)
}

/** The providers whose keys this merchant downloads. */
function downloadingProviders(merchant: MerchantConfig, registry: ProviderRegistry): KeyDownload[] {
  return registry.keyDownloadsOf(merchant)
}

async function opened(env: Env, merchantId: string, sealed: readonly SealedDownloadedKey[], now: number): Promise<CachedKeys> {
  const keyring = masterKeyring(env)
  const byProvider = new Map<string, DownloadedKey[]>()
  for (const key of (await openKeys(sealed, keyring, merchantId)).opened) {
    const list = byProvider.get(key.provider) ?? []
    list.push(key)
    byProvider.set(key.provider, list)
  }
  return { byProvider, loadedAt: now }
}

/** The merchant's downloaded keys, from the cache or its replica; none when the replica cannot be read. */
async function downloadedKeys(env: Env, merchantId: string, now: number, fresh: boolean): Promise<CachedKeys> {
  const cached = keysByMerchant.get(merchantId)
  if (cached !== undefined && !fresh && now - cached.loadedAt < CACHE_TTL_MS && now >= cached.loadedAt) return cached
  try {
    const entry = await opened(env, merchantId, await merchantReplica(env, merchantId).downloadedKeys(), now)
    remember(merchantId, entry)
    return entry
  } catch {
    // Configured keys still verify; an unknown serial then asks the replica again (and is retried if it fails).
    log('warn', { event: 'downloaded_keys.unavailable', merchant_id: merchantId })
    return { byProvider: new Map(), loadedAt: now }
  }
}

/**
 * The merchant with `keys`, made once per cached keys and config object: the same section object then reaches
 * the adapters on every notification, and what they derive from it (the APIv3 key's bytes) is reused. A key that
 * expires meanwhile is dropped with the cache entry, at most CACHE_TTL_MS later.
 */
const withKeysMemo = new WeakMap<CachedKeys, { merchant: MerchantConfig; config: MerchantConfig }>()

function withKeys(merchant: MerchantConfig, downloading: readonly KeyDownload[], keys: CachedKeys, now: number): MerchantConfig {
  const known = withKeysMemo.get(keys)
  if (known !== undefined && known.merchant === merchant) return known.config
  const sections: Record<string, unknown> = { ...merchant }
  for (const { provider, downloads } of downloading) {
    const unexpired = (keys.byProvider.get(provider) ?? []).filter((key) => Date.parse(key.expiresAt) > now)
    sections[provider] = downloads.withDownloaded(sections[provider], unexpired)
  }
  const config = sections as MerchantConfig
  withKeysMemo.set(keys, { merchant, config })
  return config
}

export interface DownloadedKeysOptions {
  registry: ProviderRegistry
  /** Read the replica even when cached keys are fresh (admin reads). */
  fresh?: boolean
}

/** The merchant with its downloaded keys beside the configured ones; unchanged when it downloads none. */
export async function withDownloadedKeys(
  env: Env,
  merchant: MerchantConfig,
  now: number,
  { registry, fresh = false }: DownloadedKeysOptions,
): Promise<MerchantConfig> {
  const downloading = downloadingProviders(merchant, registry)
  if (downloading.length === 0) return merchant
  return withKeys(merchant, downloading, await downloadedKeys(env, merchant.id, now, fresh), now)
}

/**
 * `verifyNotification`, with the merchant's downloaded keys; a notification the adapter refuses for an unknown
 * serial is verified once more after an on-demand download. Still unknown: `unknown_serial_after_download`
 * (a 5xx, so the provider retries).
 */
export async function verifyWithDownloadedKeys(
  env: Env,
  registry: ProviderRegistry,
  adapter: ChannelAdapter,
  raw: RawNotification,
  merchant: MerchantConfig,
  now: number,
): Promise<VerifiedNotification> {
  const downloading = downloadingProviders(merchant, registry)
  const withDownloads =
    downloading.length === 0 ? merchant : withKeys(merchant, downloading, await downloadedKeys(env, merchant.id, now, false), now)
  try {
    return await verifyNotification(adapter, raw, withDownloads, now)
  } catch (error) {
    if (!isUnknownSerial(error) || !downloading.some((d) => d.provider === adapter.provider)) throw error
  }
  let refreshed: CachedKeys
  try {
    const answer = await merchantReplica(env, merchant.id).downloadForUnknownSerial(adapter.provider)
    refreshed = await opened(env, merchant.id, answer.keys, now)
    remember(merchant.id, refreshed)
  } catch {
    throw new NotifyRejection('unknown_serial_after_download', 'key download unavailable; retry later')
  }
  try {
    return await verifyNotification(adapter, raw, withKeys(merchant, downloading, refreshed, now), now)
  } catch (error) {
    if (isUnknownSerial(error))
      throw new NotifyRejection('unknown_serial_after_download', 'no key for this serial after a download; retry later')
    throw error
  }
}

function isUnknownSerial(error: unknown): boolean {
  return error instanceof NotifyRejection && error.code === 'unknown_serial'
}
