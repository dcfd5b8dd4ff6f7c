/** @module `GET /admin/merchants/{id}/stats`: notification and delivery counts over a window (default the last 24 h), optionally as a series. */
import { merchantStats, MAX_SERIES_POINTS } from '../ops/stats'
import { requireMerchant, requireOrderedWindow } from './admin-common'
import { AdminError, json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'
import { shardFor } from '../storage/shards'

const DAY_MS = 86_400_000

export const getStats: Handler<AdminRoutes['getStats']> = async ({ params, query, env }) => {
  await requireMerchant(env, params.merchantId)
  const until = query.until ?? new Date().toISOString()
  const since = query.since ?? new Date(Date.parse(until) - DAY_MS).toISOString()
  requireOrderedWindow(since, until)
  try {
    return json(
      await merchantStats(await shardFor(env, params.merchantId), params.merchantId, {
        since,
        until,
        ...(query.interval ? { interval: query.interval } : {}),
      }),
    )
  } catch (error) {
    if (error instanceof RangeError) {
      throw new AdminError(
        'invalid_request',
        `interval: the window would have more than ${MAX_SERIES_POINTS} points; choose a longer interval`,
      )
    }
    throw error
  }
}
