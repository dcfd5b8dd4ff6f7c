/**
 * @module Merchants in D1: secrets sealed under MASTER_KEY (bound to the merchant id), a short-lived
 * per-isolate cache for the notify hot path, and the redacted view the admin API returns.
 */
import { open, readMasterKey, seal } from '../crypto/sealed'
import type { Bytes } from '../crypto/primitives'
import { merchantReplica, type StoredMerchantRow } from './merchant-replica'
import type { MerchantInput } from './schema'
import type { AlipayConfig, MerchantConfig, V2SignType } from './types'

/** The admin API's GET shape: the PUT body with every secret left out. */
export interface MerchantPublicView {
  /** `disabled_at` is present when the endpoint answered 410 Gone and nothing is sent to it. */
  forward: { url: string; disabled_at?: string }
  requireRegisteredOrders?: boolean
  wechatpay?: {
    appid: string
    mchid: string
    v2SignType?: V2SignType | V2SignType[]
    platformPublicKeys: Record<string, string>
    merchantSerial?: string
    apiBaseUrl?: string
  }
  alipay?: Omit<AlipayConfig, 'appPrivateKey'>
}

/** A stored row could not be read back (wrong MASTER_KEY, or a row copied from another merchant). */
export class MerchantConfigUnreadable extends Error {
  override readonly name = 'MerchantConfigUnreadable'
}

const STORED_FORMAT = 1

/**
 * The `merchants.config` column: the merchant's settings with every secret field holding its
 * sealed envelope (`crypto/sealed`) instead of the secret, public fields in clear.
 */
type StoredMerchant = Omit<MerchantConfig, 'id'> & { format: typeof STORED_FORMAT }

interface CachedMerchant {
  config: MerchantConfig
  version: number
  /** The row's `config` text this entry was opened from. */
  stored: string
  loadedAt: number
}

/**
 * Per-isolate cache of opened configs. Each isolate re-reads a row at most every CACHE_TTL_MS, so a
 * change saved through another isolate reaches this one within that time; saves through this
 * isolate are seen at once. Entries are frozen: callers share them.
 */
const CACHE_TTL_MS = 30_000
const MAX_CACHED_MERCHANTS = 256
const cache = new Map<string, CachedMerchant>()

function remember(id: string, entry: CachedMerchant): void {
  cache.delete(id)
  if (cache.size >= MAX_CACHED_MERCHANTS) cache.delete(cache.keys().next().value!)
  cache.set(id, entry)
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/** `value` without its undefined properties, so spreading it never adds a key. */
function defined<T extends Record<string, string | undefined>>(value: T): Partial<Record<keyof T, string>> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<Record<keyof T, string>>
}

/**
 * The one list of a merchant's secret fields: each passes through `change` (seal when saving, open
 * when loading); everything else is copied as it is.
 */
async function mapSecrets<T extends Omit<MerchantConfig, 'id'>>(config: T, change: (value: string) => Promise<string>): Promise<T> {
  const optional = (value: string | undefined): Promise<string | undefined> =>
    value === undefined ? Promise.resolve(undefined) : change(value)
  const { forward, wechatpay, alipay } = config
  const [secret, previousSecret, apiV2Key, apiV3Key, merchantPrivateKey, appPrivateKey] = await Promise.all([
    change(forward.secret),
    optional(forward.previousSecret),
    optional(wechatpay?.apiV2Key),
    optional(wechatpay?.apiV3Key),
    optional(wechatpay?.merchantPrivateKey),
    optional(alipay?.appPrivateKey),
  ])
  return {
    ...config,
    forward: { ...forward, secret, ...defined({ previousSecret }) },
    ...(wechatpay === undefined ? {} : { wechatpay: { ...wechatpay, ...defined({ apiV2Key, apiV3Key, merchantPrivateKey }) } }),
    ...(alipay === undefined ? {} : { alipay: { ...alipay, ...defined({ appPrivateKey }) } }),
  }
}

function sealMerchant(masterKey: Bytes, id: string, input: MerchantInput): Promise<Omit<MerchantConfig, 'id'>> {
  return mapSecrets(input, (secret) => seal(masterKey, id, secret))
}

async function openMerchant(masterKey: Bytes, id: string, stored: StoredMerchant): Promise<MerchantConfig> {
  const { format: _format, ...sealed } = stored
  return { id, ...(await mapSecrets(sealed, (envelope) => open(masterKey, id, envelope))) }
}

export interface SavedMerchant {
  /** True when the merchant did not exist before. */
  created: boolean
  /** The row's change counter after this save (1 on creation). */
  version: number
}

/** Creates or replaces a merchant: secrets sealed, `version` + 1, `created_at` kept. */
export async function saveMerchant(
  env: Env,
  id: string,
  input: MerchantInput,
  now: number = Date.now(),
): Promise<SavedMerchant> {
  const masterKey = readMasterKey(env.MASTER_KEY)
  const stored: StoredMerchant = { format: STORED_FORMAT, ...(await sealMerchant(masterKey, id, input)) }
  const config = JSON.stringify(stored)
  const at = new Date(now).toISOString()
  const row = await env.DB.prepare(
    `INSERT INTO merchants (id, config, version, created_at, updated_at) VALUES (?1, ?2, 1, ?3, ?3)
     ON CONFLICT (id) DO UPDATE
       SET config = excluded.config, version = merchants.version + 1, updated_at = excluded.updated_at
     RETURNING version`,
  )
    .bind(id, config, at)
    .first<{ version: number }>()
  cache.delete(id)
  if (row === null) throw new Error('merchant upsert returned no row')
  // After D1, so the replica never holds a config D1 refused; a failure here fails the save loudly.
  await merchantReplica(env, id).put({ config, version: row.version })
  return { created: row.version === 1, version: row.version }
}

/**
 * Marks the merchant's forward endpoint disabled after it answered 410 Gone (Standard Webhooks: the
 * receiver asks not to be called again). Only while `url` is still the configured one; saving the
 * merchant again re-enables it. Returns whether this call disabled it.
 */
export async function disableForwardEndpoint(env: Env, id: string, url: string, at: number): Promise<boolean> {
  const row = await env.DB.prepare('SELECT config, version FROM merchants WHERE id = ?1').bind(id).first<StoredMerchantRow>()
  if (row === null) return false
  const stored = JSON.parse(row.config) as StoredMerchant
  if (stored.forward.url !== url || stored.forward.disabledAt !== undefined) return false
  const config = JSON.stringify({ ...stored, forward: { ...stored.forward, disabledAt: new Date(at).toISOString() } })
  // Compare-and-set on the version: an admin save in between wins, and is left as it is.
  const updated = await env.DB.prepare('UPDATE merchants SET config = ?1, version = version + 1, updated_at = ?2 WHERE id = ?3 AND version = ?4 RETURNING version')
    .bind(config, new Date(at).toISOString(), id, row.version)
    .first<{ version: number }>()
  if (updated === null) return false
  cache.delete(id)
  await merchantReplica(env, id).put({ config, version: updated.version })
  return true
}

export interface LoadMerchantOptions {
  /** Clock for the cache TTL (ms since the epoch). */
  now?: number
  /** Read D1 even when a cached copy is fresh: for admin reads that must see the latest save. */
  fresh?: boolean
}

/**
 * The merchant's stored row from D1, its home. When D1 cannot be reached, the merchant's replica
 * object answers instead, so provider callbacks are still verified; D1's error stands when the replica
 * has nothing either (never "no such merchant", which would be a lie during an outage).
 */
async function readStoredRow(env: Env, id: string): Promise<StoredMerchantRow | null> {
  try {
    return await env.DB.prepare('SELECT config, version FROM merchants WHERE id = ?1').bind(id).first<StoredMerchantRow>()
  } catch (d1Error) {
    const replicated = await merchantReplica(env, id)
      .get()
      .catch(() => null)
    if (replicated === null) throw d1Error
    console.warn('merchant read from its replica: D1 unavailable')
    return replicated
  }
}

/** A merchant's opened config and the row's change counter (later saves have higher versions). */
export interface VersionedMerchant {
  config: MerchantConfig
  version: number
}

/** The merchant's opened config, or null when there is no such merchant. */
export async function loadMerchant(env: Env, id: string, options: LoadMerchantOptions = {}): Promise<MerchantConfig | null> {
  return (await loadVersionedMerchant(env, id, options))?.config ?? null
}

/** `loadMerchant` with the row's version, for callers that must not let an older config win. */
export async function loadVersionedMerchant(
  env: Env,
  id: string,
  options: LoadMerchantOptions = {},
): Promise<VersionedMerchant | null> {
  const now = options.now ?? Date.now()
  const cached = cache.get(id)
  if (cached !== undefined && !options.fresh && now - cached.loadedAt < CACHE_TTL_MS && now >= cached.loadedAt) {
    return cached
  }
  const row = await readStoredRow(env, id)
  if (row === null) {
    // Misses are not cached: a merchant created through another isolate is usable at once.
    cache.delete(id)
    return null
  }
  // Sealing draws fresh IVs, so any save changes the text: unchanged text means nothing to re-open.
  if (cached !== undefined && cached.stored === row.config) {
    const refreshed = { ...cached, version: row.version, loadedAt: now }
    remember(id, refreshed)
    return refreshed
  }
  const masterKey = readMasterKey(env.MASTER_KEY)
  let config: MerchantConfig
  try {
    const stored = JSON.parse(row.config) as StoredMerchant
    if (stored.format !== STORED_FORMAT) throw new RangeError('unknown stored merchant format')
    config = deepFreeze(await openMerchant(masterKey, id, stored))
  } catch {
    // The cause may be a decryption failure; its details say nothing useful and nothing secret is shown.
    throw new MerchantConfigUnreadable(`merchant ${id}: stored config could not be opened`)
  }
  const entry = { config, version: row.version, stored: row.config, loadedAt: now }
  remember(id, entry)
  return entry
}

/**
 * The GET shape: every secret (`apiV2Key`, `apiV3Key`, `merchantPrivateKey`, `appPrivateKey`,
 * `forward.secret`, `forward.previousSecret`) left out.
 */
export function publicView(config: MerchantConfig): MerchantPublicView {
  const { forward, wechatpay, alipay } = config
  const v2SignTypes = wechatpay?.v2SignTypes ?? []
  return {
    forward: { url: forward.url, ...(forward.disabledAt === undefined ? {} : { disabled_at: forward.disabledAt }) },
    ...(config.requireRegisteredOrders === true ? { requireRegisteredOrders: true } : {}),
    ...(wechatpay === undefined
      ? {}
      : {
          wechatpay: {
            appid: wechatpay.appid,
            mchid: wechatpay.mchid,
            // Shown only for a v2 merchant, as written in the contract: one type alone, else the list.
            ...(wechatpay.apiV2Key === undefined || v2SignTypes.length === 0
              ? {}
              : { v2SignType: v2SignTypes.length === 1 ? v2SignTypes[0]! : [...v2SignTypes] }),
            platformPublicKeys: { ...wechatpay.platformPublicKeys },
            ...(wechatpay.merchantSerial === undefined ? {} : { merchantSerial: wechatpay.merchantSerial }),
            ...(wechatpay.apiBaseUrl === undefined ? {} : { apiBaseUrl: wechatpay.apiBaseUrl }),
          },
        }),
    ...(alipay === undefined
      ? {}
      : {
          alipay: {
            appId: alipay.appId,
            sellerId: alipay.sellerId,
            alipayPublicKey: alipay.alipayPublicKey,
            signType: alipay.signType,
            ...(alipay.gatewayUrl === undefined ? {} : { gatewayUrl: alipay.gatewayUrl }),
          },
        }),
  }
}
