/**
 * @module The audit trail: `GET /admin/merchants/{id}/notifications`, newest first, page by page (for one
 * order, `out_trade_no`, the order objects' own entries join D1's, so it is current before the projection);
 * `GET …/notifications/{id}`, one entry with the redacted raw body a `keepRejectedBodies` merchant keeps.
 */
import { listNotificationRows, notificationRow, type NotificationFilter, type NotificationListRow } from '../storage/admin-queries'
import { keptBody } from '../storage/rejected-bodies'
import { candidateProviders, orderSnapshots, requireMerchant, requireOrderedWindow } from './admin-common'
import { listAfter, page, type CursorScope } from './list-params'
import { AdminError, json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'
import { DEFAULT_LIMIT, type Cursor } from './schemas'
import { shardFor } from '../storage/shards'

export const listNotifications: Handler<AdminRoutes['listNotifications']> = async ({ params, query, env, registry }) => {
  const { merchantId } = params
  const merchant = (await requireMerchant(env, merchantId)).config
  requireOrderedWindow(query.since, query.until)
  const limit = query.limit ?? DEFAULT_LIMIT
  const scope: CursorScope = { list: 'notifications', merchantId }
  const filter: NotificationFilter = {
    outTradeNo: query.out_trade_no ?? null,
    verdict: query.verdict ?? null,
    reason: query.reason ?? null,
    since: query.since ?? null,
    until: query.until ?? null,
    after: listAfter(query.cursor, scope),
    limit: limit + 1,
  }
  const byId = new Map((await listNotificationRows(await shardFor(env, merchantId), merchantId, filter)).map((row) => [row.id, row]))
  if (filter.outTradeNo !== null) {
    // The order objects know their notifications before the D1 projection catches up.
    for (const snapshot of await orderSnapshots(env, merchant, filter.outTradeNo, candidateProviders(registry, merchant, null))) {
      for (const n of snapshot.notifications) {
        const row: NotificationListRow = {
          ...n,
          listed_at: n.received_at,
          out_trade_no: filter.outTradeNo,
          count: 1,
          first_received_at: null,
          notification_type: null,
          subject_key: null,
        }
        if (matches(row, filter)) byId.set(n.id, row)
      }
    }
  }
  const sorted = [...byId.values()].sort((a, b) => compareNewestFirst(keyOf(a), keyOf(b)))
  const { rows, nextCursor } = page(sorted, limit, keyOf, scope)
  return json({ notifications: rows.map((row) => notificationEntry(row)), next_cursor: nextCursor })
}

/** A subject object named after one notification is about no provider id of a thing: no subject then. */
const NOTIFICATION_SUBJECT = 'notification:'

/** An audit entry as the API shows it: for a provider notification, its type and the id of what it is about. */
export function notificationEntry(row: NotificationListRow) {
  const { subject_key: subjectKey, listed_at: _listedAt, ...entry } = row
  const subjectId = subjectKey === null || subjectKey.startsWith(NOTIFICATION_SUBJECT) ? null : subjectKey
  return { ...entry, notification_type: row.notification_type ?? null, subject_id: subjectId }
}

/** One audit entry, with `body` (headers and text, signatures cut short) when its raw body was kept. */
export const getNotification: Handler<AdminRoutes['getNotification']> = async ({ params, env }) => {
  const { merchantId, notificationId } = params
  await requireMerchant(env, merchantId)
  // Single entries, listed refusals, and counted refusals (whose kept body is the first of the window, as a sample).
  const db = await shardFor(env, merchantId)
  const row = /^ntf_(?:rej_)?[0-9a-f]{32}$/.test(notificationId) ? await notificationRow(db, merchantId, notificationId) : null
  if (row === null) throw new AdminError('not_found', `notification ${notificationId} does not exist`)
  const kept = await keptBody(db, merchantId, notificationId, Date.now())
  const body = kept === null ? null : { content_type: kept.contentType, headers: kept.headers, text: kept.body, truncated: kept.truncated }
  return json({ ...notificationEntry(row), body })
}

const keyOf = (row: NotificationListRow): Cursor => [row.listed_at, row.id]

function compareNewestFirst([atA, idA]: Cursor, [atB, idB]: Cursor): number {
  if (atA !== atB) return atA < atB ? 1 : -1
  return idA < idB ? 1 : idA > idB ? -1 : 0
}

/** The D1 query's conditions, for the entries that come from the order objects. */
function matches(row: NotificationListRow, filter: NotificationFilter): boolean {
  if (filter.verdict !== null && row.verdict !== filter.verdict) return false
  if (filter.reason !== null && row.reason !== filter.reason) return false
  if (filter.since !== null && row.listed_at < filter.since) return false
  if (filter.until !== null && row.listed_at >= filter.until) return false
  return filter.after === null || compareNewestFirst(filter.after, keyOf(row)) < 0
}
