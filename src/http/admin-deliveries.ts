/**
 * @module Admin endpoints for deliveries: the merchant's list (newest first, page by page, by status) and
 * replaying one with its original `webhook-id`.
 */
import { orderStub } from '../order/order-key'
import { subjectStub } from '../order/subject-key'
import { deliveryOwner, listDeliveryRows } from '../storage/admin-queries'
import { nextAttemptIso } from '../storage/order'
import { forwardSettings, requireMerchant } from './admin-common'
import { page, readListParams } from './list-params'
import { AdminError, json } from './responses'

const STATUSES = ['pending', 'delivered', 'failed']

export async function listDeliveries(request: Request, env: Env, merchantId: string): Promise<Response> {
  await requireMerchant(env, merchantId)
  const params = new URL(request.url).searchParams
  const status = params.get('status')
  if (status !== null && !STATUSES.includes(status)) throw new AdminError('invalid_request', `status: one of ${STATUSES.join(', ')}`)
  const { limit, after, since, until } = readListParams(params)
  const results = await listDeliveryRows(env.DB, merchantId, { status, after, since, until, limit: limit + 1 })
  const { rows, nextCursor } = page(results, limit, (row) => [row.created_at, row.id])
  return json({
    deliveries: rows.map(({ created_at: _created, provider: _provider, ...row }) => row),
    next_cursor: nextCursor,
  })
}

export async function replayDelivery(_request: Request, env: Env, deliveryId: string): Promise<Response> {
  const row = await deliveryOwner(env.DB, deliveryId)
  if (row === null) throw new AdminError('not_found', `delivery ${deliveryId} does not exist`)
  const merchant = await requireMerchant(env, row.merchant_id)
  const { merchant_id: merchantId, provider } = row
  // An order's delivery, or a subject object's provider.notification.
  const owner =
    row.subject_key !== null
      ? subjectStub(env, { merchantId, provider, subjectKey: row.subject_key })
      : orderStub(env, { merchantId, provider, outTradeNo: row.out_trade_no ?? '' })
  const delivery = await owner.replay(deliveryId, forwardSettings(merchant))
  if (delivery === null) throw new AdminError('not_found', `delivery ${deliveryId} does not exist`)
  return json(
    {
      id: delivery.id,
      event_id: delivery.eventId,
      type: delivery.eventType,
      out_trade_no: row.out_trade_no,
      status: delivery.status,
      attempts: delivery.attempts,
      next_attempt_at: nextAttemptIso(delivery),
      last_status_code: delivery.lastStatusCode,
    },
    202,
  )
}
