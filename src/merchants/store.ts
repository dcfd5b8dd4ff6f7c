/**
 * @module Merchants in D1 (and their replica objects): secrets sealed under MASTER_KEY (`sealing.ts`),
 * and a short-lived per-isolate cache of opened configs for the notify hot path.
 */
import { MasterKeyUnknown } from '../crypto/sealed'
import { setBounded } from '../lib/bounded-map'
import { deepFreeze } from '../lib/freeze'
import { log, type LogFields } from '../lib/log'
import { Misconfigured } from '../lib/misconfigured'
import { defaultRegistry, type ProviderRegistry } from '../providers'
import { checkIdentities, claimStatements, identityKeysOf, indexUnclaimedMerchants } from './identities'
import { masterKeyring } from './master-keys'
import { merchantReplica, type StoredMerchantRow } from './merchant-replica'
import type { MerchantInput } from './schema'
import { openMerchant, sealMerchant, type StoredMerchant } from './sealing'
import type { MerchantConfig } from './types'
import { assignShard } from '../storage/shards'

/** A stored row could not be read back (wrong MASTER_KEY, or a row copied from another merchant). */
export class MerchantConfigUnreadable extends Misconfigured {
  override readonly name = 'MerchantConfigUnreadable'
  readonly logFields: LogFields
  constructor(
    readonly merchantId: string,
    /** Its secrets name a master key the gateway does not hold (MASTER_KEY_PREVIOUS removed before a reseal). */
    readonly masterKeyUnknown: boolean,
  ) {
    super(
      masterKeyUnknown
        ? `merchant ${merchantId}: its secrets are sealed under a master key that is neither MASTER_KEY nor MASTER_KEY_PREVIOUS: ` +
            'set MASTER_KEY_PREVIOUS to the key they were sealed under, then run npm run admin -- reseal'
        : `merchant ${merchantId}: stored config could not be opened`,
    )
    const reason = masterKeyUnknown ? 'master_key_unknown' : 'unreadable'
    this.logFields = { event: 'admin.merchant_unreadable', merchant_id: merchantId, reason }
  }
}

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
const openedMerchants = new Map<string, CachedMerchant>()

function remember(id: string, entry: CachedMerchant): void {
  setBounded(openedMerchants, id, entry, MAX_CACHED_MERCHANTS)
}

export interface SavedMerchant {
  /** True when the merchant did not exist before. */
  created: boolean
  /** The row's change counter after this save (1 on creation). */
  version: number
}

export interface SaveMerchantOptions {
  /** The providers whose secret fields are sealed; the default gateway's unless given. */
  registry?: ProviderRegistry
  now?: number
  /** Save only over this version (compare-and-set): a PATCH never overwrites a change made since it read. */
  expectedVersion?: number
}

/** The merchant was changed by someone else between reading and saving it. */
export class MerchantChanged extends Error {
  override readonly name = 'MerchantChanged'
}

/**
 * Creates or replaces a merchant: secrets sealed, `version` + 1, `created_at` kept. Throws `ReplicaBehind` when D1
 * took it and its replica did not.
 */
export async function saveMerchant(env: Env, id: string, input: MerchantInput, options: SaveMerchantOptions = {}): Promise<SavedMerchant> {
  const { registry = defaultRegistry, now = Date.now(), expectedVersion } = options
  const stored = await sealMerchant(masterKeyring(env), id, input, registry)
  // No other merchant may claim an identity this one would (a PATCH can change ids too).
  const keys = identityKeysOf(input, registry)
  await indexUnclaimedMerchants(env.DB, registry)
  await checkIdentities(env.DB, id, keys, registry)
  // Its projection's shard, before the merchant exists (a failure here saves nothing); saving it again keeps it.
  await assignShard(env, id, new Date(now).toISOString())
  const config = JSON.stringify(stored)
  const at = new Date(now).toISOString()
  // One transaction: the merchant and its identity claims (a claim taken meanwhile fails it whole). A PATCH saves
  // over the version it read only: its claims come first, guarded by that version, then the compare-and-set.
  const save =
    expectedVersion === undefined
      ? [
          env.DB.prepare(
            `INSERT INTO merchants (id, config, version, created_at, updated_at) VALUES (?1, ?2, 1, ?3, ?3)
             ON CONFLICT (id) DO UPDATE
               SET config = excluded.config, version = merchants.version + 1, updated_at = excluded.updated_at
             RETURNING version`,
          ).bind(id, config, at),
          ...claimStatements(env.DB, id, keys),
        ]
      : [...claimStatements(env.DB, id, keys, expectedVersion), compareAndSet(env.DB, id, config, expectedVersion, at)]
  let results: D1Result<{ version: number }>[]
  try {
    results = await env.DB.batch<{ version: number }>(save)
  } catch (error) {
    await checkIdentities(env.DB, id, keys, registry)
    throw error
  }
  const row = results[expectedVersion === undefined ? 0 : save.length - 1]?.results[0]
  openedMerchants.delete(id)
  if (row === undefined) {
    if (expectedVersion !== undefined) throw new MerchantChanged(`merchant ${id} changed meanwhile; read it again and retry`)
    throw new Error('merchant upsert returned no row')
  }
  // After D1, so the replica never holds a config D1 refused; a failure here fails the save loudly.
  await replicate(env, id, { config, version: row.version })
  return { created: row.version === 1, version: row.version }
}

/** Replaces the row's config only while it is at `version`; returns the new version (no row: it changed meanwhile). */
function compareAndSet(db: D1Database, id: string, config: string, version: number, at: string): D1PreparedStatement {
  return db
    .prepare('UPDATE merchants SET config = ?1, version = version + 1, updated_at = ?2 WHERE id = ?3 AND version = ?4 RETURNING version')
    .bind(config, at, id, version)
}

/** The merchant's row as D1 stores it (secrets still sealed), with its version; null when there is none. */
export async function readStoredMerchant(env: Env, id: string): Promise<{ stored: StoredMerchant; version: number } | null> {
  const row = await env.DB.prepare('SELECT config, version FROM merchants WHERE id = ?1').bind(id).first<StoredMerchantRow>()
  return row === null ? null : { stored: JSON.parse(row.config) as StoredMerchant, version: row.version }
}

/**
 * Replaces the stored row if its version is still `version` (compare-and-set: a save in between wins and is
 * left as it is). Returns the new version, or null when the row changed meanwhile; throws `ReplicaBehind` when the
 * row was saved but its replica could not be.
 */
export async function writeStoredMerchant(
  env: Env,
  id: string,
  stored: StoredMerchant,
  version: number,
  now: number,
): Promise<number | null> {
  const config = JSON.stringify(stored)
  const updated = await compareAndSet(env.DB, id, config, version, new Date(now).toISOString()).first<{ version: number }>()
  if (updated === null) return null
  openedMerchants.delete(id)
  await replicate(env, id, { config, version: updated.version })
  return updated.version
}

/** Copies a row D1 took to the merchant's replica; `ReplicaBehind` when it cannot. */
export async function replicate(env: Env, id: string, row: StoredMerchantRow): Promise<void> {
  try {
    await merchantReplica(env, id).put(row, id)
  } catch (error) {
    throw new ReplicaBehind(id, row.version, error)
  }
}

/** D1 took the row (at `version`), its replica did not: the replica holds the row before, until the next save. */
export class ReplicaBehind extends Error {
  override readonly name = 'ReplicaBehind'
  constructor(
    merchantId: string,
    version: number,
    override readonly cause: unknown,
  ) {
    super(`merchant ${merchantId}: saved at version ${version}, its replica not`)
  }
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
    log('warn', { event: 'merchant.replica_read', merchant_id: id, reason: 'd1_unavailable' })
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
export async function loadVersionedMerchant(env: Env, id: string, options: LoadMerchantOptions = {}): Promise<VersionedMerchant | null> {
  const now = options.now ?? Date.now()
  const cached = openedMerchants.get(id)
  if (cached !== undefined && !options.fresh && now - cached.loadedAt < CACHE_TTL_MS && now >= cached.loadedAt) {
    return cached
  }
  const row = await readStoredRow(env, id)
  if (row === null) {
    // Misses are not cached: a merchant created through another isolate is usable at once.
    openedMerchants.delete(id)
    return null
  }
  // Sealing draws fresh IVs, so any save changes the text: unchanged text means nothing to re-open.
  if (cached !== undefined && cached.stored === row.config) {
    const refreshed = { ...cached, version: row.version, loadedAt: now }
    remember(id, refreshed)
    return refreshed
  }
  const keys = masterKeyring(env)
  let config: MerchantConfig
  try {
    const stored = JSON.parse(row.config) as StoredMerchant
    if (stored.format !== 1 && stored.format !== 2) throw new RangeError('unknown stored merchant format')
    config = deepFreeze(await openMerchant(keys, id, stored))
  } catch (error) {
    // The cause may be a decryption failure; its details say nothing useful and nothing secret is shown.
    throw new MerchantConfigUnreadable(id, error instanceof MasterKeyUnknown)
  }
  const entry = { config, version: row.version, stored: row.config, loadedAt: now }
  remember(id, entry)
  return entry
}
