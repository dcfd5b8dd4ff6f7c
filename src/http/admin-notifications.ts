/**
 * @module `GET /admin/merchants/{id}/notifications`: the audit trail, newest first, page by page. For one
 * order (`out_trade_no`), the order objects' own entries join D1's, so it is current before the projection.
 */
import { listNotificationRows, type NotificationFilter, type NotificationListRow } from '../storage/admin-queries'
import { orderSnapshots, requireMerchant } from './admin-common'
import { page } from './list-params'
import { json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'
import { DEFAULT_LIMIT, type Cursor } from './schemas'

export const listNotifications: Handler<AdminRoutes['listNotifications']> = async ({ params, query, env, registry }) => {
  const { merchantId } = params
  const merchant = (await requireMerchant(env, merchantId)).config
  const limit = query.limit ?? DEFAULT_LIMIT
  const filter: NotificationFilter = {
    outTradeNo: query.out_trade_no ?? null,
    verdict: query.verdict ?? null,
    reason: query.reason ?? null,
    since: query.since ?? null,
    until: query.until ?? null,
    after: query.cursor ?? null,
    limit: limit + 1,
  }
  const byId = new Map((await listNotificationRows(env.DB, merchantId, filter)).map((row) => [row.id, row]))
  if (filter.outTradeNo !== null) {
    // The order objects know their notifications before the D1 projection catches up.
    for (const snapshot of await orderSnapshots(env, registry, merchant, filter.outTradeNo, null)) {
      for (const n of snapshot.notifications) {
        const row: NotificationListRow = { ...n, out_trade_no: filter.outTradeNo, count: 1, first_received_at: null }
        if (matches(row, filter)) byId.set(n.id, row)
      }
    }
  }
  const sorted = [...byId.values()].sort((a, b) => compareNewestFirst(keyOf(a), keyOf(b)))
  const { rows, nextCursor } = page(sorted, limit, keyOf)
  return json({ notifications: rows.map(({ source: _source, ...row }) => row), next_cursor: nextCursor })
}

const keyOf = (row: NotificationListRow): Cursor => [row.received_at, row.id]

function compareNewestFirst([atA, idA]: Cursor, [atB, idB]: Cursor): number {
  if (atA !== atB) return atA < atB ? 1 : -1
  return idA < idB ? 1 : idA > idB ? -1 : 0
}

/** The D1 query's conditions, for the entries that come from the order objects. */
function matches(row: NotificationListRow, filter: NotificationFilter): boolean {
  if (filter.verdict !== null && row.verdict !== filter.verdict) return false
  if (filter.reason !== null && row.reason !== filter.reason) return false
  if (filter.since !== null && row.received_at < filter.since) return false
  if (filter.until !== null && row.received_at >= filter.until) return false
  return filter.after === null || compareNewestFirst(filter.after, keyOf(row)) < 0
}
