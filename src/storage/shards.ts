/**
 * @module Which D1 database holds a merchant's projection. `D1_SHARDS` names the shard bindings (comma-separated, in
 * wrangler.toml; `DB` alone by default); the control database `DB` holds the merchants and the merchant → shard map,
 * assigned once, when a merchant is first saved, to the shard with the fewest merchants (migration 0007 put every
 * merchant saved before it on `DB`). A merchant the map does not know is read on the first shard; one whose shard is
 * no longer listed is refused, and only that merchant (see shardsOf).
 */
import { errorSummary, log, type LogFields } from '../lib/log'
import { Misconfigured } from '../lib/misconfigured'

const CONTROL_SHARD = 'DB'

/**
 * A merchant's projection cannot be read, by how the gateway is configured (not by the request): its shard is no longer
 * listed in `D1_SHARDS`, or a listed name is no D1 binding. Its message says what to change.
 */
export class ShardUnavailable extends Misconfigured {
  override readonly name = 'ShardUnavailable'
  readonly logFields: LogFields
  constructor(shard: string, merchantId: string | null, message: string) {
    super(message)
    this.logFields = { event: 'admin.shard_unavailable', merchant_id: merchantId, shard }
  }
}

/** The D1 database bound under `name`, or null when that binding is not one. */
function boundD1(env: Env, name: string): D1Database | null {
  const binding = (env as unknown as Record<string, unknown>)[name]
  return typeof binding === 'object' && binding !== null && typeof (binding as D1Database).batch === 'function'
    ? (binding as D1Database)
    : null
}

/** The shard recorded for a merchant, listed or not; null when it was never given one. */
async function recordedShard(env: Env, merchantId: string): Promise<string | null> {
  const row = await env.DB.prepare('SELECT shard FROM merchant_shards WHERE merchant_id = ?').bind(merchantId).first<{ shard: string }>()
  return row?.shard ?? null
}

export function shardNames(env: Env): string[] {
  const names = (env.D1_SHARDS ?? CONTROL_SHARD)
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
  return names.length > 0 ? names : [CONTROL_SHARD]
}

/** The database a listed shard name binds; `merchantId`: whose projection it is sought for, named in the error. */
export function shardDatabase(env: Env, name: string, merchantId: string | null = null): D1Database {
  const binding = boundD1(env, name)
  if (binding === null) {
    throw new ShardUnavailable(
      name,
      merchantId,
      `D1_SHARDS names ${name}, which is not a D1 binding: add its [[d1_databases]] binding (and apply the migrations to it)`,
    )
  }
  return binding
}

/**
 * Shard names for these merchants (one read of the map). A merchant whose recorded shard `D1_SHARDS` no longer lists
 * has none here, never another shard: its rows would split across two databases, its history unread.
 */
async function shardsOf(env: Env, merchantIds: readonly string[]): Promise<Map<string, string>> {
  const names = shardNames(env)
  const shards = new Map(merchantIds.map((id) => [id, names[0]!]))
  if (merchantIds.length === 0) return shards
  const { results } = await env.DB.prepare(
    'SELECT merchant_id, shard FROM merchant_shards WHERE merchant_id IN (SELECT value FROM json_each(?))',
  )
    .bind(JSON.stringify([...new Set(merchantIds)]))
    .all<{ merchant_id: string; shard: string }>()
  for (const row of results) {
    if (names.includes(row.shard)) shards.set(row.merchant_id, row.shard)
    else shards.delete(row.merchant_id)
  }
  return shards
}

/**
 * Items grouped by their merchant's shard name (one read of the map, as shardsOf); the items of merchants whose shard
 * is unlisted apart, so that they wait without holding up the others.
 */
export async function groupByShard<T>(
  env: Env,
  items: readonly T[],
  merchantOf: (item: T) => string,
): Promise<{ groups: Map<string, T[]>; unlisted: T[] }> {
  const shards = await shardsOf(env, items.map(merchantOf))
  const groups = new Map<string, T[]>()
  const unlisted: T[] = []
  for (const item of items) {
    const shard = shards.get(merchantOf(item))
    if (shard === undefined) {
      unlisted.push(item)
      continue
    }
    const group = groups.get(shard)
    if (group === undefined) groups.set(shard, [item])
    else group.push(item)
  }
  return { groups, unlisted }
}

/**
 * A page of merchants, by id after `after` (null: from the first), grouped by the shard holding their projection as
 * groupByShard groups them (never assigned: the first shard; on a shard no longer listed: left out); `last` is where
 * the next page starts, null after the last page.
 */
export async function merchantPageByShard(
  env: Env,
  after: string | null,
  limit: number,
): Promise<{ groups: Map<string, string[]>; last: string | null }> {
  const { results } = await env.DB.prepare('SELECT id FROM merchants WHERE id > ? ORDER BY id LIMIT ?')
    .bind(after ?? '', limit)
    .all<{ id: string }>()
  const ids = results.map((row) => row.id)
  const { groups } = await groupByShard(env, ids, (id) => id)
  return { groups, last: ids.length === limit ? (ids[ids.length - 1] ?? null) : null }
}

/** The database holding this merchant's projection. */
export async function shardFor(env: Env, merchantId: string): Promise<D1Database> {
  const name = (await shardsOf(env, [merchantId])).get(merchantId)
  if (name !== undefined) return shardDatabase(env, name, merchantId)
  const shard = (await recordedShard(env, merchantId)) ?? '?'
  throw new ShardUnavailable(
    shard,
    merchantId,
    `merchant ${merchantId}'s lists and stats are on shard ${shard}, which D1_SHARDS does not list: list it again (what ` +
      'was projected meanwhile waits in the dead-letter queue: then npm run admin -- projection redrive)',
  )
}

/**
 * Every shard database, for the reads that are not about one merchant (a delivery found by its id alone). A listed name
 * that is no D1 binding holds nothing that can be read: left out (logged), so the other shards still answer.
 */
export function allShards(env: Env): D1Database[] {
  return shardNames(env).flatMap((name) => {
    const binding = boundD1(env, name)
    if (binding !== null) return [binding]
    log('warn', { event: 'shard.unbound', shard: name })
    return []
  })
}

/**
 * The listed shards a new merchant may be given: D1 bindings whose projection tables exist (migrations applied). One
 * without would take the merchant for good (a merchant keeps its shard) and fail every read of it.
 */
async function usableShards(env: Env, names: readonly string[]): Promise<string[]> {
  const usable = await Promise.all(
    names.map(async (name) => {
      const binding = boundD1(env, name)
      if (binding === null) {
        log('warn', { event: 'shard.unusable', shard: name, reason: 'not a D1 binding' })
        return false
      }
      try {
        await binding.prepare('SELECT 1 FROM orders LIMIT 1').all()
        return true
      } catch (error) {
        log('warn', { event: 'shard.unusable', shard: name, reason: 'no projection tables (migrations)', error: errorSummary(error) })
        return false
      }
    }),
  )
  return names.filter((_, i) => usable[i])
}

/**
 * Gives a merchant its shard once (the one with the fewest merchants) and records it, with one shard too, so adding a
 * shard later never moves a merchant that has history; later calls keep it. Returns the shard's name.
 */
export async function assignShard(env: Env, merchantId: string, now: string): Promise<string> {
  const listed = shardNames(env)
  let shard = listed[0]!
  if (listed.length > 1) {
    const recorded = await recordedShard(env, merchantId)
    if (recorded !== null) return recorded
    // The emptiest usable one; with none usable (each logged), the first, as with one shard.
    const names = await usableShards(env, listed)
    const { results } = await env.DB.prepare('SELECT shard, count(*) AS merchants FROM merchant_shards GROUP BY shard').all<{
      shard: string
      merchants: number
    }>()
    const load = new Map(results.map((r) => [r.shard, r.merchants]))
    shard = names.reduce((best, name) => ((load.get(name) ?? 0) < (load.get(best) ?? 0) ? name : best), names[0] ?? shard)
  }
  const kept = await env.DB.prepare(
    `INSERT INTO merchant_shards (merchant_id, shard, assigned_at) VALUES (?, ?, ?)
     ON CONFLICT (merchant_id) DO UPDATE SET merchant_id = merchant_id RETURNING shard`,
  )
    .bind(merchantId, shard, now)
    .first<{ shard: string }>()
  return kept?.shard ?? shard
}
