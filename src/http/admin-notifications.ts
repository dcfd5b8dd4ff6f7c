/**
 * @module `GET /admin/merchants/{id}/notifications`: the audit trail, newest first, page by page. For one
 * order (`out_trade_no`), the order objects' own entries join D1's, so it is current before the projection.
 */
import type { ProviderRegistry } from '../providers'
import { listNotificationRows, type NotificationFilter, type NotificationListRow } from '../storage/admin-queries'
import { orderSnapshots, requireMerchant, requireOutTradeNo } from './admin-common'
import { page, readListParams, type Cursor } from './list-params'
import { AdminError, json } from './responses'

const VERDICTS = ['accepted', 'duplicate', 'rejected']
const REASON = /^[\x20-\x7e]{1,64}$/

export async function listNotifications(request: Request, env: Env, merchantId: string, registry: ProviderRegistry): Promise<Response> {
  const merchant = (await requireMerchant(env, merchantId)).config
  const params = new URL(request.url).searchParams
  const { limit, after, since, until } = readListParams(params)
  const outTradeNo = params.get('out_trade_no')
  const verdict = params.get('verdict')
  if (verdict !== null && !VERDICTS.includes(verdict)) throw new AdminError('invalid_request', `verdict: one of ${VERDICTS.join(', ')}`)
  const reason = params.get('reason')
  if (reason !== null && !REASON.test(reason)) throw new AdminError('invalid_request', 'reason: 1–64 printable ASCII characters')
  const filter: NotificationFilter = {
    outTradeNo: outTradeNo === null ? null : requireOutTradeNo(outTradeNo, 'out_trade_no'),
    verdict,
    reason,
    since,
    until,
    after,
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
