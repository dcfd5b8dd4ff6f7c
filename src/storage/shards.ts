/**
 * @module Which D1 database holds a merchant's projection. `D1_SHARDS` names the shard bindings (comma-separated, in
 * wrangler.toml; `DB` alone by default); the control database `DB` holds the merchants and the merchant → shard map,
 * assigned once, when a merchant is first saved, to the shard with the fewest merchants (migration 0007 put every
 * merchant saved before it on `DB`). A merchant the map does not know is read on the first shard; one whose shard is
 * no longer listed is refused (see shardsOf).
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
 * is an error, not a fallback: its rows would split across two databases, its history unread. Its projection then
 * waits in the queue (and the dead-letter queue) until the shard is listed again.
 */
export async function shardsOf(env: Env, merchantIds: readonly string[]): Promise<Map<string, string>> {
  const names = shardNames(env)
  const found = new Map(merchantIds.map((id) => [id, names[0]!]))
  if (merchantIds.length === 0) return found
  const { results } = await env.DB.prepare(
    'SELECT merchant_id, shard FROM merchant_shards WHERE merchant_id IN (SELECT value FROM json_each(?))',
  )
    .bind(JSON.stringify([...new Set(merchantIds)]))
    .all<{ merchant_id: string; shard: string }>()
  for (const row of results) {
    if (!names.includes(row.shard))
      throw new TypeError(`merchant ${row.merchant_id} is on shard ${row.shard}, which D1_SHARDS does not list`)
    found.set(row.merchant_id, row.shard)
  }
  return found
}

/** Items grouped by their merchant's shard name (one read of the map, as shardsOf). */
export async function groupByShard<T>(env: Env, items: readonly T[], merchantOf: (item: T) => string): Promise<Map<string, T[]>> {
  const shards = await shardsOf(env, items.map(merchantOf))
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const shard = shards.get(merchantOf(item))!
    const group = groups.get(shard)
    if (group === undefined) groups.set(shard, [item])
    else group.push(item)
  }
  return groups
}

/** The database holding this merchant's projection. */
export async function shardFor(env: Env, merchantId: string): Promise<D1Database> {
  const name = (await shardsOf(env, [merchantId])).get(merchantId)!
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
