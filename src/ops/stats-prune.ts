/**
 * @module The daily prune of the stats counters past retention: merchant by merchant on the shard the map says holds
 * each, along the primary key (never a scan of `merchant_stats`), in D1 calls of bounded size. A shard that fails is
 * logged and waits for the next day; the others are pruned.
 */
import { errorSummary, log } from '../lib/log'
import { merchantPageByShard, shardDatabase } from '../storage/shards'
import { pruneStatsStatement, statsCutoffMinute, statsToPruneStatement } from '../storage/stats'

/** Merchants read from the control database at a time. */
const MERCHANTS_PER_PAGE = 100

/** Merchants pruned by one D1 call: it deletes at most this many times PRUNE_MINUTES_PER_STATEMENT rows (36,000). */
export const PRUNE_MERCHANTS_PER_CALL = 25

export interface PruneOutcome {
  /** Merchants visited on shards that did not fail. */
  merchants: number
  /** Rows deleted. */
  rows: number
  failedShards: string[]
}

export async function pruneStats(env: Env, now: number): Promise<PruneOutcome> {
  const cutoff = statsCutoffMinute(now)
  const failed = new Set<string>()
  const outcome: PruneOutcome = { merchants: 0, rows: 0, failedShards: [] }
  let after: string | null = null
  do {
    const page = await merchantPageByShard(env, after, MERCHANTS_PER_PAGE)
    for (const [shard, merchantIds] of page.groups) {
      if (failed.has(shard)) continue
      try {
        const db = shardDatabase(env, shard)
        for (let i = 0; i < merchantIds.length; i += PRUNE_MERCHANTS_PER_CALL) {
          outcome.rows += await pruneMerchants(db, merchantIds.slice(i, i + PRUNE_MERCHANTS_PER_CALL), cutoff)
        }
        outcome.merchants += merchantIds.length
      } catch (error) {
        failed.add(shard)
        log('error', { event: 'stats.prune_failed', shard, error: errorSummary(error) })
      }
    }
    after = page.last
  } while (after !== null)
  outcome.failedShards = [...failed]
  return outcome
}

/**
 * Prunes these merchants' rows before the cut-off: one D1 call a round, each merchant's oldest day at most in each,
 * until none has rows before it (one round a day, more to catch up a backlog). Each round deletes each merchant's
 * oldest row at least, so it ends. Returns the rows deleted.
 */
async function pruneMerchants(db: D1Database, merchantIds: readonly string[], cutoff: number): Promise<number> {
  let rows = 0
  let left = merchantIds
  while (left.length > 0) {
    const results = await db.batch<{ merchant_id: string }>([
      ...left.map((id) => pruneStatsStatement(db, id, cutoff)),
      statsToPruneStatement(db, left, cutoff),
    ])
    const still = results.pop()
    rows += results.reduce((sum, result) => sum + (result.meta.changes ?? 0), 0)
    left = (still?.results ?? []).map((row) => row.merchant_id)
  }
  return rows
}
