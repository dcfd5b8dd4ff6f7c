/**
 * The per-minute counters in D1: each projection batch adds to its merchant's row; rejection reasons merge key by key;
 * the daily prune deletes each merchant's rows past retention on its own shard.
 */
import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { PRUNE_MERCHANTS_PER_CALL, pruneStats } from '../../src/ops/stats-prune'
import {
  LATENCY_BUCKETS_MS,
  PRUNE_MINUTES_PER_STATEMENT,
  readRejectedReasons,
  readStatsBuckets,
  statsCutoffMinute,
  statsStatement,
  type MinuteCounts,
} from '../../src/storage/stats'
import { unavailableD1 } from '../security/harness'
import { capturedLines } from '../support/console-capture'

function counts(over: Partial<MinuteCounts>): MinuteCounts {
  return {
    accepted: 0,
    duplicate: 0,
    rejected: 0,
    rejectedByReason: {},
    delivered: 0,
    failed: 0,
    latency: LATENCY_BUCKETS_MS.map(() => 0),
    ...over,
  }
}

describe('merchant_stats', () => {
  it('adds each batch to the merchant-minute row, merging rejection reasons and latency buckets', async () => {
    const minute = 30_000_000
    const latency = LATENCY_BUCKETS_MS.map((_, i) => (i === 0 ? 2 : i === 3 ? 1 : 0))
    await env.DB.batch([
      statsStatement(env.DB, 'stats-rows', minute, counts({ accepted: 2, rejected: 1, rejectedByReason: { amount_mismatch: 1 }, latency })),
      statsStatement(
        env.DB,
        'stats-rows',
        minute,
        counts({ duplicate: 1, rejected: 2, rejectedByReason: { amount_mismatch: 1, 'unsigned: FAIL': 1 }, delivered: 1 }),
      ),
      statsStatement(env.DB, 'stats-rows', minute + 1, counts({ failed: 1, latency })),
      statsStatement(env.DB, 'stats-other', minute, counts({ accepted: 5 })),
    ])
    const rows = await readStatsBuckets(env.DB, 'stats-rows', minute, minute + 2, 1)
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatchObject({
      first_minute: minute,
      accepted: 2,
      duplicate: 1,
      rejected: 3,
      delivered: 1,
      failed: 0,
      latency_0: 2,
      latency_3: 1,
    })
    expect(await readRejectedReasons(env.DB, 'stats-rows', minute, minute + 1)).toEqual({ amount_mismatch: 2, 'unsigned: FAIL': 1 })
    expect(rows[1]).toMatchObject({ first_minute: minute + 1, failed: 1, latency_0: 2 })
    expect(await readStatsBuckets(env.DB, 'stats-rows', minute + 2, minute + 10, 1)).toEqual([])
    // Summed in D1: by buckets of 10 minutes aligned to the epoch, or the whole window in one.
    expect(await readStatsBuckets(env.DB, 'stats-rows', minute, minute + 20, 10)).toMatchObject([
      { first_minute: minute, accepted: 2, rejected: 3, failed: 1, latency_0: 4, latency_3: 2 },
    ])
    expect(await readStatsBuckets(env.DB, 'stats-rows', minute - 5, minute + 5, null)).toMatchObject([{ accepted: 2, failed: 1 }])
  })
})

describe('the daily prune of merchant_stats', () => {
  const now = Date.parse('2026-11-30T03:17:00Z')
  const cutoff = statsCutoffMinute(now)
  const twoShards = (over: Record<string, unknown> = {}) => ({ ...env, D1_SHARDS: 'DB,DB_SHARD_1', ...over }) as unknown as Env

  beforeAll(async () => {
    await applyD1Migrations(env.DB_SHARD_1, env.TEST_MIGRATIONS)
  })

  /** Merchants in the control database, each recorded on its shard (null: never assigned, so on the first shard). */
  async function merchants(shards: Record<string, string | null>): Promise<void> {
    const at = new Date(now).toISOString()
    await env.DB.batch(
      Object.entries(shards).flatMap(([id, shard]) => [
        env.DB.prepare(`INSERT INTO merchants (id, config, version, created_at, updated_at) VALUES (?1, '{}', 1, ?2, ?2)`).bind(id, at),
        ...(shard === null
          ? []
          : [env.DB.prepare('INSERT INTO merchant_shards (merchant_id, shard, assigned_at) VALUES (?, ?, ?)').bind(id, shard, at)]),
      ]),
    )
  }

  /** A row for every minute of [from, to) for the merchant. */
  function minutes(db: D1Database, merchantId: string, from: number, to: number): Promise<D1Result> {
    return db
      .prepare(
        `WITH RECURSIVE m(minute) AS (SELECT ?2 UNION ALL SELECT minute + 1 FROM m WHERE minute + 1 < ?3)
         INSERT INTO merchant_stats (merchant_id, minute, accepted) SELECT ?1, minute, 1 FROM m`,
      )
      .bind(merchantId, from, to)
      .run()
  }

  const kept = async (db: D1Database, merchantId: string) =>
    (await readStatsBuckets(db, merchantId, 0, Number.MAX_SAFE_INTEGER, 1)).map((row) => row.first_minute)

  /** The shard's D1, counting the rows each of its calls deleted. */
  function counting(db: D1Database): { db: D1Database; deletedPerCall: number[][] } {
    const deletedPerCall: number[][] = []
    const wrapped = Object.create(db) as D1Database
    wrapped.prepare = (sql) => db.prepare(sql)
    wrapped.batch = async (statements) => {
      const results = await db.batch(statements)
      deletedPerCall.push(results.flatMap((r, i) => (i < results.length - 1 ? [r.meta.changes] : [])))
      return results as never
    }
    return { db: wrapped, deletedPerCall }
  }

  it('deletes each merchant’s old rows on the shard that holds it, keeps the recent ones, a day per statement at most', async () => {
    await merchants({ 'prune-a': 'DB', 'prune-b': 'DB_SHARD_1', 'prune-never-assigned': null })
    // prune-a: three days of backlog, every minute (a prune that failed for days), and the last minutes kept.
    await minutes(env.DB, 'prune-a', cutoff - 3 * 1440, cutoff + 2)
    await minutes(env.DB_SHARD_1, 'prune-b', cutoff - 2, cutoff + 1)
    await minutes(env.DB, 'prune-never-assigned', cutoff - 1, cutoff + 1)
    // Where a merchant does not live, nothing of its is read or deleted.
    await minutes(env.DB_SHARD_1, 'prune-a', cutoff - 5, cutoff - 4)
    const [db, shard1] = [counting(env.DB), counting(env.DB_SHARD_1)]

    const outcome = await pruneStats(twoShards({ DB: db.db, DB_SHARD_1: shard1.db }), now)

    expect(outcome).toEqual({ merchants: 3, rows: 3 * 1440 + 2 + 1, failedShards: [] })
    expect(await kept(env.DB, 'prune-a')).toEqual([cutoff, cutoff + 1])
    expect(await kept(env.DB_SHARD_1, 'prune-b')).toEqual([cutoff])
    expect(await kept(env.DB, 'prune-never-assigned')).toEqual([cutoff])
    expect(await kept(env.DB_SHARD_1, 'prune-a')).toEqual([cutoff - 5])
    // The backlog went a day per statement, in one call per round; each call bounded by the merchants it holds.
    const calls = [...db.deletedPerCall, ...shard1.deletedPerCall]
    expect(calls.flat().every((rows) => rows <= PRUNE_MINUTES_PER_STATEMENT)).toBe(true)
    expect(calls.every((call) => call.length <= PRUNE_MERCHANTS_PER_CALL)).toBe(true)
    expect(db.deletedPerCall.map((call) => call.reduce((sum, n) => sum + n, 0))).toEqual([1440 + 1, 1440, 1440])

    // A run a minute later finds one more minute of each merchant past the cut-off, and deletes that.
    expect(await pruneStats(twoShards(), now + 60_000)).toEqual({ merchants: 3, rows: 3, failedShards: [] })
    expect(await kept(env.DB, 'prune-a')).toEqual([cutoff + 1])
  })

  it('prunes the other shards when one fails, and says which failed', async () => {
    await merchants({ 'prune-up': 'DB', 'prune-down': 'DB_SHARD_1' })
    await minutes(env.DB, 'prune-up', cutoff - 10, cutoff + 1)
    await minutes(env.DB_SHARD_1, 'prune-down', cutoff - 10, cutoff + 1)
    const outcome = await pruneStats(twoShards({ DB_SHARD_1: unavailableD1().db }), now)
    expect(outcome).toMatchObject({ failedShards: ['DB_SHARD_1'] })
    expect(await kept(env.DB, 'prune-up')).toEqual([cutoff])
    expect(await kept(env.DB_SHARD_1, 'prune-down')).toHaveLength(11)
    expect(capturedLines.some((line) => line.includes('stats.prune_failed') && line.includes('DB_SHARD_1'))).toBe(true)
  })
})
