/**
 * The admin lists, the pending count and the refusals' pruning seek in an index bounded by what was asked (a page
 * after a cursor, a status, an order), never walking a merchant's whole history: each statement the real functions
 * send is run again under `EXPLAIN QUERY PLAN` on the migrated D1.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { failedDeliveriesInWindow, listDeliveryRows, listNotificationRows, type NotificationFilter } from '../../src/storage/admin-queries'
import { refusalStatements } from '../../src/storage/refusals'
import { pruneStats } from '../../src/ops/stats-prune'
import { countPendingDeliveries, statsCutoffMinute } from '../../src/storage/stats'
import { storedObjectsAfter } from '../../src/storage/stored-objects'

interface Sent {
  sql: string
  values: unknown[]
}

/** A D1 that records the SQL and values of every statement prepared through it. */
function recording(): { db: D1Database; sent: Sent[] } {
  const sent: Sent[] = []
  const db = Object.create(env.DB) as D1Database
  db.prepare = (sql) => {
    const statement = env.DB.prepare(sql)
    const bind = statement.bind.bind(statement)
    statement.bind = (...values) => {
      sent.push({ sql, values })
      return bind(...values)
    }
    return statement
  }
  return { db, sent }
}

/** The plan's lines for one recorded statement. */
async function planOf({ sql, values }: Sent): Promise<string> {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...values)
    .all<{ detail: string }>()
  return results.map((row) => row.detail).join('\n')
}

const NO_FILTER: NotificationFilter = { outTradeNo: null, verdict: null, reason: null, since: null, until: null, after: null, limit: 50 }
const CURSOR: [string, string] = ['2026-11-01T00:00:00.000Z', 'x']

describe('admin reads seek instead of walking history', () => {
  it('pages the audit trail from the cursor, and an order from its own entries', async () => {
    const { db, sent } = recording()
    await listNotificationRows(db, 'plans', { ...NO_FILTER, after: CURSOR })
    await listNotificationRows(db, 'plans', { ...NO_FILTER, outTradeNo: 'ORDER-1', after: CURSOR })
    const [page, order] = await Promise.all(sent.map(planOf))
    expect(page).toMatch(/notifications_by_time \(merchant_id=\? AND \(received_at,id\)<\(\?,\?\)\)/)
    expect(order).toMatch(/notifications_by_order \(merchant_id=\? AND out_trade_no=\? AND \(received_at,id\)<\(\?,\?\)\)/)
    expect(`${page}\n${order}`).not.toMatch(/SCAN|TEMP B-TREE/)
  })

  it('pages deliveries by status and by time from the cursor, and counts pending ones among the unsettled only', async () => {
    const { db, sent } = recording()
    await listDeliveryRows(db, 'plans', { status: 'failed', after: CURSOR, limit: 50 })
    await listDeliveryRows(db, 'plans', { status: null, since: '2026-10-01T00:00:00.000Z', after: CURSOR, limit: 50 })
    await countPendingDeliveries(db, 'plans', '2026-01-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z')
    const [failed, byTime, pending] = await Promise.all(sent.map(planOf))
    expect(failed).toMatch(/deliveries_unsettled \(merchant_id=\? AND status=\? AND \(created_at,id\)<\(\?,\?\)\)/)
    expect(byTime).toMatch(/deliveries_by_time \(merchant_id=\? AND created_at>\? AND \(created_at,id\)<\(\?,\?\)\)/)
    expect(pending).toMatch(/deliveries_unsettled \(merchant_id=\? AND status=\?/)
    expect(`${failed}\n${byTime}\n${pending}`).not.toMatch(/SCAN|TEMP B-TREE/)
  })

  it('walks a recovery window along the unsettled deliveries from the cursor, with no sort of the whole window', async () => {
    const { db, sent } = recording()
    const window = { since: '2025-11-30T00:00:00.000Z', until: '2026-11-30T00:00:00.000Z', limit: 501 }
    await failedDeliveriesInWindow(db, 'plans', { ...window, after: null })
    await failedDeliveriesInWindow(db, 'plans', { ...window, after: CURSOR })
    const [first, next] = await Promise.all(sent.map(planOf))
    expect(first).toMatch(/deliveries_unsettled \(merchant_id=\? AND status=\? AND created_at>\? AND created_at<\?\)/)
    expect(next).toMatch(/deliveries_unsettled \(merchant_id=\? AND status=\? AND \(created_at,id\)>\(\?,\?\) AND created_at<\?\)/)
    expect(`${first}\n${next}`).not.toMatch(/SCAN|TEMP B-TREE/)
  })

  it('walks the orders by their key and the subjects along their deliveries’ partial index, from the cursor', async () => {
    const { db, sent } = recording()
    await storedObjectsAfter(db, 'orders', 'plans', null, 101)
    await storedObjectsAfter(db, 'orders', 'plans', ['alipay', 'ORDER-1'], 101)
    await storedObjectsAfter(db, 'subjects', 'plans', null, 101)
    await storedObjectsAfter(db, 'subjects', 'plans', ['wechatpay', 'SUBJECT-1'], 101)
    const [orders, ordersNext, subjects, subjectsNext] = await Promise.all(sent.map(planOf))
    expect(orders).toMatch(/SEARCH orders USING PRIMARY KEY \(merchant_id=\?\)/)
    expect(ordersNext).toMatch(/SEARCH orders USING PRIMARY KEY \(merchant_id=\? AND \(provider,out_trade_no\)>\(\?,\?\)\)/)
    expect(subjects).toMatch(/USING COVERING INDEX deliveries_by_subject \(merchant_id=\?\)/)
    expect(subjectsNext).toMatch(/USING COVERING INDEX deliveries_by_subject \(merchant_id=\? AND \(provider,subject_key\)>\(\?,\?\)\)/)
    expect([orders, ordersNext, subjects, subjectsNext].join('\n')).not.toMatch(/SCAN|TEMP B-TREE/)
  })

  it('counts and prunes refusals through their own index, not through every order’s or provider notification', async () => {
    const { db, sent } = recording()
    const now = Date.parse('2026-11-30T12:00:00Z')
    await refusalStatements(db, [
      { id: 'ntf_rej_plan', merchantId: 'plans', channel: 'alipay', reason: 'signature_invalid', receivedAt: now },
    ])
    const prune = sent.find((s) => s.sql.startsWith('DELETE FROM notifications'))
    expect(prune).toBeDefined()
    expect(await planOf(prune!)).toMatch(/notifications_refusals \(merchant_id=\? AND received_at<\?\)/)
    // How many the hour lists already, before a refusal is listed or counted: the same index, the hour's range of it.
    const listed = sent.find((s) => s.sql.includes('AS listed FROM json_each'))
    expect(listed).toBeDefined()
    expect(await planOf(listed!)).toMatch(/notifications_refusals \(merchant_id=\? AND received_at>\? AND received_at<\?\)/)
  })

  it('prunes the stats merchant by merchant along the primary key, never scanning merchant_stats', async () => {
    const { db, sent } = recording()
    const now = Date.parse('2026-11-30T12:00:00Z')
    const cutoff = statsCutoffMinute(now)
    await env.DB.prepare(`INSERT INTO merchants (id, config, version, created_at, updated_at) VALUES ('plans', '{}', 1, ?1, ?1)`)
      .bind(new Date(now).toISOString())
      .run()
    await env.DB.batch(
      [cutoff - 3000, cutoff - 1, cutoff].map((minute) =>
        env.DB.prepare('INSERT INTO merchant_stats (merchant_id, minute) VALUES (?, ?)').bind('plans', minute),
      ),
    )
    // Every statement the daily prune sends (D1_SHARDS unset: DB alone, the control database too).
    await pruneStats({ ...env, DB: db } as Env, now)
    const stats = sent.filter((s) => s.sql.includes('merchant_stats'))
    const plans = await Promise.all(stats.map(planOf))
    // Two rounds: the oldest row's day, then the next row's (a day at most from a merchant's oldest row each).
    expect(stats.filter((s) => s.sql.startsWith('DELETE'))).toHaveLength(2)
    for (const [i, plan] of plans.entries()) {
      expect(plan).toMatch(/SEARCH merchant_stats (EXISTS )?USING PRIMARY KEY \(merchant_id=\? AND minute<\?\)/)
      expect(plan, stats[i]!.sql).not.toMatch(/SCAN merchant_stats/)
    }
    const merchants = sent.find((s) => s.sql.includes('FROM merchants'))
    expect(await planOf(merchants!)).toMatch(/SEARCH merchants USING COVERING INDEX \S+ \(id>\?\)/)
    const left = await env.DB.prepare(`SELECT minute FROM merchant_stats WHERE merchant_id = 'plans'`).all<{ minute: number }>()
    expect(left.results.map((row) => row.minute)).toEqual([cutoff])
  })
})
