/**
 * @module `GET /admin/endpoints`: a page of merchants with their endpoint's health, read from each merchant's monitor
 * object (failing since, last success and failure) and the D1 stats counters (the last 24 hours), in one call.
 */
import { disabledReasonOf } from '../merchants/public-view'
import type { MerchantConfig } from '../merchants/types'
import { monitorStub } from '../ops/monitor'
import { deliveryCountsSince, listMerchantRows, type DeliveryCountsRow } from '../storage/admin-queries'
import { groupByShard, shardDatabase } from '../storage/shards'
import { endpointHealthTimes } from './admin-common'
import { listAfter, page, type CursorScope } from './list-params'
import { json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'
import { DEFAULT_LIMIT } from './schemas'

const DAY_MINUTES = 24 * 60

export const listEndpointHealth: Handler<AdminRoutes['listEndpointHealth']> = async ({ query, env }) => {
  const limit = query.limit ?? DEFAULT_LIMIT
  // The same rows as the merchants list, yet its own list: a cursor continues only the list that returned it.
  const scope: CursorScope = { list: 'endpoints', merchantId: null }
  const rows = await listMerchantRows(env.DB, { after: listAfter(query.cursor, scope), limit: limit + 1 })
  const { rows: shown, nextCursor } = page(rows, limit, (row) => [row.created_at, row.id], scope)
  const sinceMinute = Math.floor(Date.now() / 60_000) - DAY_MINUTES
  const [counts, healths] = await Promise.all([
    countsPerShard(
      env,
      shown.map((row) => row.id),
      sinceMinute,
    ),
    // A monitor that cannot answer leaves its row without health rather than failing the page.
    Promise.all(
      shown.map((row) =>
        monitorStub(env, row.id)
          .health()
          .catch(() => null),
      ),
    ),
  ])
  const countsOf = new Map(counts.map((row) => [row.merchant_id, row]))
  return json({
    endpoints: shown.map((row, i) => {
      // The stored row, secrets still sealed: only its public fields are read.
      const { forward } = JSON.parse(row.config) as Omit<MerchantConfig, 'id'>
      const health = healths[i]
      const { delivered = 0, failed = 0, attempts = 0 } = countsOf.get(row.id) ?? {}
      const lastAttempt = Math.max(health?.lastSuccessAt ?? -1, health?.lastFailureAt ?? -1)
      return {
        merchant_id: row.id,
        url: forward.url,
        disabled_at: forward.disabledAt ?? null,
        disabled_reason: forward.disabledAt === undefined ? null : disabledReasonOf(forward),
        ...endpointHealthTimes(health ?? null),
        last_attempt_at: lastAttempt < 0 ? null : new Date(lastAttempt).toISOString(),
        last_24h: { delivered, failed, attempts, attempt_success_rate: attempts === 0 ? null : delivered / attempts },
      }
    }),
    next_cursor: nextCursor,
  })
}

/** The merchants' counters, read from each one's shard (one query per shard; none for a shard no longer listed). */
async function countsPerShard(env: Env, merchantIds: string[], sinceMinute: number): Promise<DeliveryCountsRow[]> {
  const { groups } = await groupByShard(env, merchantIds, (id) => id)
  const perShard = await Promise.all([...groups].map(([name, ids]) => deliveryCountsSince(shardDatabase(env, name), ids, sinceMinute)))
  return perShard.flat()
}
