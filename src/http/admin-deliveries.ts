/**
 * @module Admin endpoints for deliveries: the merchant's list (newest first, filtered, page by page), one delivery
 * with its attempts, replaying one with its original `webhook-id`, and bulk recovery of a time range.
 */
import { orderStub } from '../order/order-key'
import { subjectStub } from '../order/subject-key'
import {
  deliveryOwner,
  failedDeliveryOwnerKey,
  listDeliveryRows,
  objectsWithFailedDeliveries,
  type FailedDeliveryOwnerKey,
  type FailedDeliveryOwnerRow,
} from '../storage/admin-queries'
import { fromBase64, fromUtf8, toBase64, utf8 } from '../crypto/encoding'
import { log } from '../lib/log'
import { nextAttemptIso } from '../storage/order'
import { forwardSettings, requireEnabledEndpoint, requireMerchant } from './admin-common'
import { page } from './list-params'
import { AdminError, json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'
import { MAX_RECOVER_ORDERS } from './routes-deliveries'
import { DEFAULT_LIMIT } from './schemas'
import { allShards, shardFor } from '../storage/shards'

type Routes = AdminRoutes

export const listDeliveries: Handler<Routes['listDeliveries']> = async ({ params, query, env }) => {
  await requireMerchant(env, params.merchantId)
  const limit = query.limit ?? DEFAULT_LIMIT
  const results = await listDeliveryRows(await shardFor(env, params.merchantId), params.merchantId, {
    status: query.status ?? null,
    type: query.type ?? null,
    outTradeNo: query.out_trade_no ?? null,
    since: query.since ?? null,
    until: query.until ?? null,
    after: query.cursor ?? null,
    limit: limit + 1,
  })
  const { rows, nextCursor } = page(results, limit, (row) => [row.created_at, row.id])
  return json({ deliveries: rows, next_cursor: nextCursor })
}

/** The object that holds a merchant's deliveries: an order's, or a subject's (provider.notification). */
function deliveriesObject(env: Env, merchantId: string, row: FailedDeliveryOwnerRow) {
  const { provider } = row
  return row.subject_key !== null
    ? subjectStub(env, { merchantId, provider, subjectKey: row.subject_key })
    : orderStub(env, { merchantId, provider, outTradeNo: row.out_trade_no ?? '' })
}

/** The object that holds a delivery, found through the D1 projection. */
async function ownerOf(env: Env, deliveryId: string) {
  // A delivery id names no merchant: ask every shard at once (one by default).
  const found = await Promise.all(allShards(env).map((db) => deliveryOwner(db, deliveryId)))
  const row = found.find((r) => r !== null) ?? null
  if (row === null) throw new AdminError('not_found', `delivery ${deliveryId} does not exist`)
  return { row, stub: deliveriesObject(env, row.merchant_id, row) }
}

export const getDelivery: Handler<Routes['getDelivery']> = async ({ params, env }) => {
  const { stub } = await ownerOf(env, params.deliveryId)
  const view = await stub.delivery(params.deliveryId)
  if (view === null) throw new AdminError('not_found', `delivery ${params.deliveryId} does not exist`)
  return json(view)
}

export const replayDelivery: Handler<Routes['replayDelivery']> = async ({ params, env }) => {
  const { row, stub } = await ownerOf(env, params.deliveryId)
  const merchant = await requireMerchant(env, row.merchant_id)
  requireEnabledEndpoint(merchant, 'send it again')
  const delivery = await stub.replay(params.deliveryId, forwardSettings(merchant))
  if (delivery === null) throw new AdminError('not_found', `delivery ${params.deliveryId} does not exist`)
  return json(
    {
      id: delivery.id,
      event_id: delivery.eventId,
      type: delivery.eventType,
      out_trade_no: row.out_trade_no,
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

/** Objects called at once during a recovery: enough to be quick, few enough to stay polite. */
const RECOVER_CONCURRENCY = 6

function encodeRecoverCursor(key: FailedDeliveryOwnerKey): string {
  return toBase64(utf8(JSON.stringify(key)))
}

function decodeRecoverCursor(cursor: string): FailedDeliveryOwnerKey {
  try {
    const value = JSON.parse(fromUtf8(fromBase64(cursor))) as unknown
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      const [provider, second, third] = value as string[]
      if (value.length === 3) return [provider!, second!, third!]
      // Written before subjects were recovered: (provider, order number).
      if (value.length === 2) return [provider!, '', second!]
    }
  } catch {
    // not a cursor
  }
  throw new AdminError('invalid_request', 'cursor: not a cursor returned by this endpoint')
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
  const window = { since: body.since, until: body.until ?? new Date().toISOString() }
  if (window.until <= window.since) throw new AdminError('invalid_request', 'until: must be after since')
  const limit = body.limit ?? MAX_RECOVER_ORDERS
  const owners = await objectsWithFailedDeliveries(await shardFor(env, params.merchantId), params.merchantId, {
    ...window,
    after: body.cursor === undefined ? null : decodeRecoverCursor(body.cursor),
    limit: limit + 1,
  })
  const shown = owners.slice(0, limit)
  const settings = forwardSettings(merchant)
  let recovered = 0
  for (let i = 0; i < shown.length; i += RECOVER_CONCURRENCY) {
    const counts = await Promise.all(
      shown.slice(i, i + RECOVER_CONCURRENCY).map((owner) => deliveriesObject(env, params.merchantId, owner).recover(window, settings)),
    )
    recovered += counts.reduce((sum, n) => sum + n, 0)
  }
  log('info', { event: 'deliveries.recovered', merchant_id: params.merchantId, outcome: 'queued', recovered, orders: shown.length })
  const nextCursor = owners.length > limit ? encodeRecoverCursor(failedDeliveryOwnerKey(shown[shown.length - 1]!)) : null
  return json({ recovered, orders: shown.length, next_cursor: nextCursor }, 202)
}
