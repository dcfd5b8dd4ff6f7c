/**
 * @module Admin endpoints for deliveries: the merchant's list (newest first, filtered, page by page), one delivery
 * with its attempts, replaying one with its original `webhook-id`, and bulk recovery of a time range.
 */
import {
  deliveryOwner,
  failedDeliveriesInWindow,
  listDeliveryRows,
  type FailedDeliveryCursor,
  type FailedDeliveryRow,
} from '../storage/admin-queries'
import { log } from '../lib/log'
import { deliveryHolderOf, nextAttemptIso } from '../storage/order'
import type { StoredObjectRow } from '../storage/stored-objects'
import {
  callStoredObjects,
  deliveryHolderStub,
  forwardSettings,
  requireEnabledEndpoint,
  requireMerchant,
  requireOrderedWindow,
  storedObject,
} from './admin-common'
import { cursorText, cursorValue, isTextPair, listAfter, page, walkPosition, type CursorScope } from './list-params'
import { AdminError, json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'
import { MAX_RECOVER_ORDERS } from './routes-deliveries'
import { DEFAULT_LIMIT } from './schemas'
import { allShards, shardFor } from '../storage/shards'

type Routes = AdminRoutes

export const listDeliveries: Handler<Routes['listDeliveries']> = async ({ params, query, env }) => {
  await requireMerchant(env, params.merchantId)
  requireOrderedWindow(query.since, query.until)
  const scope: CursorScope = { list: 'deliveries', merchantId: params.merchantId }
  const after = listAfter(query.cursor, scope)
  // Test events are sent once and never stored: no delivery has that type.
  if (query.type === 'webhook.test') return json({ deliveries: [], next_cursor: null })
  const limit = query.limit ?? DEFAULT_LIMIT
  const results = await listDeliveryRows(await shardFor(env, params.merchantId), params.merchantId, {
    status: query.status ?? null,
    type: query.type ?? null,
    outTradeNo: query.out_trade_no ?? null,
    since: query.since ?? null,
    until: query.until ?? null,
    after,
    limit: limit + 1,
  })
  const { rows, nextCursor } = page(results, limit, (row) => [row.created_at, row.id], scope)
  return json({ deliveries: rows, next_cursor: nextCursor })
}

/**
 * The object that holds a delivery, and its view of it. An id that names its object goes there (the authority: D1
 * trails it by a queue batch, and a delivery the order already lists must be found); ids of earlier versions are found
 * through the projection. One D1 lists but its object no longer holds was dropped with the object's other records past
 * its retention date: a 404 that says so.
 */
async function heldDelivery(env: Env, deliveryId: string) {
  const holder = deliveryHolderOf(deliveryId)
  const listed = holder === null ? await listedOwner(env, deliveryId) : null
  const stub = holder !== null ? deliveryHolderStub(env, holder) : listed === null ? null : storedObject(env, listed.merchant_id, listed)
  const view = stub === null ? null : await stub.delivery(deliveryId)
  if (stub !== null && view !== null) return { stub, view }
  const dropped = stub === null ? null : (listed ?? (await listedOwner(env, deliveryId)))
  if (dropped === null) throw new AdminError('not_found', `delivery ${deliveryId} does not exist`)
  const whose = dropped.subject_key === null ? 'its order' : "its notification's subject"
  throw new AdminError(
    'not_found',
    `delivery ${deliveryId} is no longer kept: ${whose} passed its retention date (ORDER_RETENTION_DAYS) and its event was dropped; the deliveries list keeps its status`,
  )
}

/** The delivery's row in the projection (its owner), from whichever shard has it; null when none does. */
async function listedOwner(env: Env, deliveryId: string) {
  // A delivery id names no merchant: ask every shard at once (one by default).
  const found = await Promise.all(allShards(env).map((db) => deliveryOwner(db, deliveryId)))
  return found.find((r) => r !== null) ?? null
}

export const getDelivery: Handler<Routes['getDelivery']> = async ({ params, env }) => {
  const { view } = await heldDelivery(env, params.deliveryId)
  return json(view)
}

export const replayDelivery: Handler<Routes['replayDelivery']> = async ({ params, env }) => {
  const { stub, view } = await heldDelivery(env, params.deliveryId)
  const merchant = await requireMerchant(env, view.merchant_id)
  requireEnabledEndpoint(merchant, 'send it again')
  const delivery = await stub.replay(params.deliveryId, forwardSettings(merchant))
  if (delivery === null) throw new AdminError('not_found', `delivery ${params.deliveryId} does not exist`)
  return json(
    {
      id: delivery.id,
      event_id: delivery.eventId,
      type: delivery.eventType,
      out_trade_no: view.out_trade_no,
      status: delivery.status,
      reason: delivery.status === 'failed' ? delivery.failureReason : null,
      attempts: delivery.attempts,
      next_attempt_at: nextAttemptIso(delivery),
      last_status_code: delivery.lastStatusCode,
      created_at: delivery.createdAt,
    },
    202,
  )
}

/**
 * Failed deliveries a recover call reads at most for each object it may work through: a page reads O(limit) rows,
 * however many failed in the window, and an object with several failed deliveries does not shrink the page.
 */
const RECOVER_ROWS_PER_OBJECT = 4

/** A recovery's walk: its merchant and window (as sent); its cursor holds `[created_at, id]` of the last delivery taken. */
function recoverScope(merchantId: string, window: { since: string; until?: string | undefined }): CursorScope {
  return { list: 'recover', merchantId, window: { since: window.since, until: window.until ?? null } }
}

const isRecoverPosition = (value: unknown): value is FailedDeliveryCursor => isTextPair(value) && !Number.isNaN(Date.parse(value[0]))

function readRecoverCursor(cursor: string | undefined, scope: CursorScope): FailedDeliveryCursor | null {
  const value = cursor === undefined ? undefined : cursorValue(cursor)
  // Earlier versions wrote `[provider, subject key, order number]` (a walk by object), then `{"after": position}` (no scope).
  const after = typeof value === 'object' && value !== null ? (value as { after?: unknown }).after : undefined
  if ((Array.isArray(value) && value.length === 3) || isRecoverPosition(after)) {
    throw new AdminError(
      'invalid_request',
      'cursor: from an earlier version of this endpoint; start the recovery again without a cursor (nothing already queued is sent twice)',
    )
  }
  return walkPosition(cursor, scope, isRecoverPosition)
}

/**
 * One page of a recovery from the window's failed deliveries, oldest first (`read` of them, and one more if the window
 * has more): their objects, each once, `limit` at most, and the last delivery taken, where the next page starts. An
 * object whose failed deliveries fall in two pages is called by both; its second recover finds them pending already.
 */
function recoverPage(rows: readonly FailedDeliveryRow[], limit: number, read: number) {
  const objects = new Map<string, StoredObjectRow>()
  let taken = 0
  for (const row of rows.slice(0, read)) {
    const key = JSON.stringify([row.provider, row.subject_key, row.out_trade_no])
    if (!objects.has(key)) {
      if (objects.size === limit) break
      objects.set(key, row)
    }
    taken += 1
  }
  const last = rows[taken - 1]
  return { objects: [...objects.values()], after: taken < rows.length && last ? ([last.created_at, last.id] as const) : null }
}

/**
 * Every failed delivery created in the window, sent again by the object that holds it (original `webhook-id`, an
 * order's events in their order): order objects, and the subject objects of provider notifications. They come from
 * the D1 projection, page by page; each object re-checks its own rows, so what is already pending (or delivered) is
 * never queued twice.
 */
export const recoverDeliveries: Handler<Routes['recoverDeliveries']> = async ({ params, body, env }) => {
  const merchant = await requireMerchant(env, params.merchantId)
  // Everything it queued would fail again at once.
  requireEnabledEndpoint(merchant, 'recover')
  const scope = recoverScope(params.merchantId, body)
  const window = { since: body.since, until: body.until ?? new Date().toISOString() }
  requireOrderedWindow(window.since, window.until)
  const limit = body.limit ?? MAX_RECOVER_ORDERS
  const read = limit * RECOVER_ROWS_PER_OBJECT
  const rows = await failedDeliveriesInWindow(await shardFor(env, params.merchantId), params.merchantId, {
    ...window,
    after: readRecoverCursor(body.cursor, scope),
    limit: read + 1,
  })
  const { objects: shown, after } = recoverPage(rows, limit, read)
  const settings = forwardSettings(merchant)
  const counts = await callStoredObjects(env, params.merchantId, shown, (object) => object.recover(window, settings))
  const recovered = counts.reduce((sum, n) => sum + n, 0)
  log('info', { event: 'deliveries.recovered', merchant_id: params.merchantId, outcome: 'queued', recovered, orders: shown.length })
  return json({ recovered, orders: shown.length, next_cursor: after === null ? null : cursorText(scope, after) }, 202)
}
