/**
 * @module Which D1 database holds a merchant's projection. `D1_SHARDS` names the shard bindings (comma-separated, in
 * wrangler.toml; `DB` alone by default); the control database `DB` holds the merchants and the merchant → shard map,
 * assigned once, when a merchant is first saved, to the shard with the fewest merchants (migration 0007 put every
 * merchant saved before it on `DB`). A merchant the map does not know is read on the first shard; one whose shard is
 * no longer listed is refused, and only that merchant (see shardsOf).
 */

const CONTROL_SHARD = 'DB'

export function shardNames(env: Env): string[] {
  const names = (env.D1_SHARDS ?? CONTROL_SHARD)
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
  return names.length > 0 ? names : [CONTROL_SHARD]
}

export function shardDatabase(env: Env, name: string): D1Database {
  const binding = (env as unknown as Record<string, unknown>)[name]
  if (typeof binding !== 'object' || binding === null || typeof (binding as D1Database).batch !== 'function') {
    throw new TypeError(`D1_SHARDS names ${name}, which is not a D1 binding`)
  }
  return binding as D1Database
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
  if (name === undefined) throw new TypeError(`merchant ${merchantId} is on a shard D1_SHARDS does not list`)
  return shardDatabase(env, name)
}

/** Every shard database, for the reads that are not about one merchant (a delivery found by its id alone). */
export function allShards(env: Env): D1Database[] {
  return shardNames(env).map((name) => shardDatabase(env, name))
}

/**
 * Gives a merchant its shard once (the one with the fewest merchants) and records it, with one shard too, so adding a
 * shard later never moves a merchant that has history; later calls keep it. Returns the shard's name.
 */
export async function assignShard(env: Env, merchantId: string, now: string): Promise<string> {
  const names = shardNames(env)
  let shard = names[0]!
  if (names.length > 1) {
    const { results } = await env.DB.prepare('SELECT shard, count(*) AS merchants FROM merchant_shards GROUP BY shard').all<{
      shard: string
      merchants: number
    }>()
    const load = new Map(results.map((r) => [r.shard, r.merchants]))
    shard = names.reduce((best, name) => ((load.get(name) ?? 0) < (load.get(best) ?? 0) ? name : best), names[0]!)
  }
  const kept = await env.DB.prepare(
    `INSERT INTO merchant_shards (merchant_id, shard, assigned_at) VALUES (?, ?, ?)
     ON CONFLICT (merchant_id) DO UPDATE SET merchant_id = merchant_id RETURNING shard`,
  )
    .bind(merchantId, shard, now)
    .first<{ shard: string }>()
  return kept?.shard ?? shard
}
