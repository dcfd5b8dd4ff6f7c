/**
 * @module Downloaded provider keys as the Worker uses them: read sealed from the merchant's replica and opened,
 * cached per isolate like merchant configs, and added to the merchant's sections for verification. A
 * notification or a query answer naming a serial no key has gets a second chance: one on-demand download
 * (rate-limited by the replica), then verification again; still unknown, a notification gets a reply that makes the
 * provider retry, and a query fails as it would have.
 */
import { setBounded } from '../lib/bounded-map'
import { log } from '../lib/log'
import { masterKeyring } from './master-keys'
import {
  isUnknownSerial,
  NotifyRejection,
  verifyNotification,
  type ChannelAdapter,
  type DownloadedKey,
  type KeyDownload,
  type ProviderRegistry,
  type RawNotification,
  type VerifiedNotification,
} from '../providers'
import { ON_DEMAND_INTERVAL_MS, openKeys, type SealedDownloadedKey } from './key-downloader'
import { merchantReplica } from './merchant-replica'
import type { VersionedMerchant } from './store'
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
  setBounded(keysByMerchant, merchantId, entry, MAX_CACHED_MERCHANTS)
}

/**
 * Until when a merchant's replica, having answered this isolate's unknown serial with no key it lacked, may not
 * download again (by merchant and provider): it downloads at most once a minute, so until then asking again would
 * bring nothing new either (keys its schedule brings reach the keys cache within CACHE_TTL_MS), and would only wake
 * the replica, once per request of a flood that names made-up serials. The replica says when: a minute after its last
 * try, not after its answer (one that tried 50 s before may try again 10 s later). It holds for the merchant's version
 * it was learnt under and older ones: a save (a new version) may have changed the account or keys the replica
 * downloads with, and the replica then downloads again at once, so the next unknown serial asks it once more.
 */
interface NothingNew {
  version: number
  until: number
}

const nothingNewUntil = new Map<string, NothingNew>()

function rememberNothingNew(key: string, entry: NothingNew): void {
  setBounded(nothingNewUntil, key, entry, MAX_CACHED_MERCHANTS)
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

function serialsOf(keys: CachedKeys, provider: string): string {
  return (keys.byProvider.get(provider) ?? [])
    .map((key) => key.serial)
    .sort()
    .join(' ')
}

/** Why a key is still unknown after the second chance: no download could be had, or it did not bring the key. */
export type StillUnknown = 'download_unavailable' | 'unknown_after_download'

export interface KeyDownloadRetry {
  /** The provider whose keys verify what the attempt reads (only its keys are downloaded). */
  provider: string
  /**
   * What to throw when the serial is still unknown; `error` is the attempt's own failure (the first one when no
   * download could be had). By default `error` itself.
   */
  stillUnknown?: (why: StillUnknown, error: unknown) => unknown
}

/**
 * `attempt` (a verification: of a notification, of a query's answer) given the merchant with its downloaded keys
 * beside the configured ones. When it fails for an unknown serial (`isUnknownSerial`) of a provider the merchant
 * downloads keys from, the merchant's replica downloads them on demand (at most once a minute: within it, the keys
 * it has) and `attempt` runs once more with them, when they are others than it had; once it had none, this isolate
 * does not ask it again before it may download again, unless the merchant was saved since (`nothingNewUntil`). The
 * one second chance notifications and queries share (a query's attempt asks the provider again).
 */
export async function withKeyDownloadRetry<T>(
  env: Env,
  registry: ProviderRegistry,
  { config: merchant, version }: VersionedMerchant,
  now: number,
  { provider, stillUnknown = (_why, error) => error }: KeyDownloadRetry,
  attempt: (merchant: MerchantConfig) => Promise<T>,
): Promise<T> {
  const downloading = downloadingProviders(merchant, registry)
  if (downloading.length === 0) return attempt(merchant)
  const used = await downloadedKeys(env, merchant.id, now, false)
  let first: unknown
  try {
    return await attempt(withKeys(merchant, downloading, used, now))
  } catch (error) {
    if (!isUnknownSerial(error) || !downloading.some((d) => d.provider === provider)) throw error
    first = error
  }
  const askedKey = JSON.stringify([merchant.id, provider])
  const held = nothingNewUntil.get(askedKey)
  if (held !== undefined && version <= held.version && now < held.until) throw stillUnknown('unknown_after_download', first)
  let refreshed: CachedKeys
  let nextDownloadAt: number
  try {
    const answer = await merchantReplica(env, merchant.id).downloadForUnknownSerial(provider)
    refreshed = await opened(env, merchant.id, answer.keys, now)
    nextDownloadAt = answer.nextDownloadAt
    remember(merchant.id, refreshed)
  } catch {
    throw stillUnknown('download_unavailable', first)
  }
  // The replica has no key the attempt lacked (downloaded under a minute ago, or WeChat lists none other): a second
  // attempt would fail alike, and a query's would ask the provider again for nothing.
  if (serialsOf(refreshed, provider) === serialsOf(used, provider)) {
    // Never longer than the replica's interval from now, whatever its clock said.
    rememberNothingNew(askedKey, { version, until: Math.min(nextDownloadAt, now + ON_DEMAND_INTERVAL_MS) })
    throw stillUnknown('unknown_after_download', first)
  }
  try {
    return await attempt(withKeys(merchant, downloading, refreshed, now))
  } catch (error) {
    throw isUnknownSerial(error) ? stillUnknown('unknown_after_download', error) : error
  }
}

/**
 * `verifyNotification`, with the merchant's downloaded keys and their second chance (`withKeyDownloadRetry`). Still
 * unknown: `unknown_serial_after_download` (a 5xx, so the provider retries).
 */
export function verifyWithDownloadedKeys(
  env: Env,
  registry: ProviderRegistry,
  adapter: ChannelAdapter,
  raw: RawNotification,
  merchant: VersionedMerchant,
  now: number,
): Promise<VerifiedNotification> {
  const stillUnknown = (why: StillUnknown) =>
    new NotifyRejection(
      'unknown_serial_after_download',
      why === 'download_unavailable' ? 'key download unavailable; retry later' : 'no key for this serial after a download; retry later',
    )
  return withKeyDownloadRetry(env, registry, merchant, now, { provider: adapter.provider, stillUnknown }, (keyed) =>
    verifyNotification(adapter, raw, keyed, now),
  )
}
