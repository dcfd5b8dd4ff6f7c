/** The per-minute counters in D1: each projection batch adds to its merchant's row; rejection reasons merge key by key. */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { LATENCY_BUCKETS_MS, readRejectedReasons, readStatsBuckets, statsStatement, type MinuteCounts } from '../../src/storage/stats'

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
