/** @module The delivery routes as specs: a merchant's list, one delivery with its attempts, replay and bulk recovery. */
import * as z from 'zod'
import { strictObject } from '../lib/validation'
import { DELIVERY_STATUSES, EVENT_TYPES, FAILURE_REASONS } from '../storage/order'
import { named, route } from './route-spec'
import { bodyLimit, instant, listQuery, merchantIdParam, NEXT_ATTEMPT_AT, ATTEMPT_ERROR, nextCursor, oneOf, orderNumber } from './schemas'

/** Orders a recover call works through at most; a larger recovery continues with `next_cursor`. */
export const MAX_RECOVER_ORDERS = 500

const deliveryFields = {
  id: z.string(),
  event_id: z.string().meta({ description: "The event's `webhook-id`, the same on every attempt, replay and recovery." }),
  type: z.string().meta({ description: 'The event type (`payment.succeeded`, …).' }),
  out_trade_no: z.string().nullable().meta({ description: 'null for a `provider.notification`, which is about no order.' }),
  status: z.enum(DELIVERY_STATUSES),
  reason: z.enum(FAILURE_REASONS).nullable().meta({
    description: 'Why a failed delivery failed: the endpoint was disabled or answered 410, retries ran out, or the URL was refused.',
  }),
  next_attempt_at: z.string().nullable().meta({ description: NEXT_ATTEMPT_AT }),
  last_status_code: z.number().int().nullable(),
}

const deliverySummary = z.object({
  ...deliveryFields,
  attempts: z.number().int().meta({ description: 'How many attempts were made.' }),
  created_at: z.string(),
})

const attempt = z.object({
  at: z.string().meta({ description: 'When the attempt started.' }),
  status_code: z.number().int().nullable().meta({ description: "The merchant's HTTP status; null when no reply came." }),
  duration_ms: z.number().int(),
  error: z.string().nullable().meta({ description: ATTEMPT_ERROR }),
  response_snippet: z.string().nullable().meta({ description: 'The first 1 KiB of the reply.' }),
})

const deliveryDetail = z.object({
  ...deliveryFields,
  merchant_id: z.string(),
  provider: z.string(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  attempts: z.array(attempt),
  event: z.record(z.string(), z.unknown()).meta({ description: 'The event exactly as the merchant receives it.' }),
})

const deliveryParams = z.object({ deliveryId: z.string().meta({ description: 'The delivery id (`dlv_…`).' }) })

const recoverBody = strictObject({
  since: instant.meta({ description: 'Deliveries created at or after this instant.' }),
  until: instant.optional().meta({ description: 'Deliveries created before this instant (default: now).' }),
  status: oneOf(['failed']).meta({ description: 'Only failed deliveries are recovered.' }),
  limit: bodyLimit(MAX_RECOVER_ORDERS)
    .optional()
    .meta({ description: `Orders to work through in this call (default ${MAX_RECOVER_ORDERS}).` }),
  cursor: z.string().optional().meta({ description: "The previous call's `next_cursor`, to continue a large recovery." }),
})

export function deliveryRoutes() {
  return {
    listDeliveries: route({
      method: 'get',
      path: '/admin/merchants/{merchantId}/deliveries',
      tag: 'deliveries',
      summary: "A merchant's deliveries, newest first",
      params: z.object({ merchantId: merchantIdParam }),
      query: z.object({
        status: oneOf(DELIVERY_STATUSES).optional(),
        type: oneOf([...EVENT_TYPES, 'webhook.test'])
          .optional()
          .meta({ description: 'An event type. `webhook.test` matches nothing: a test event is sent once and kept as no delivery.' }),
        out_trade_no: orderNumber.optional(),
        ...listQuery,
      }),
      responses: {
        200: {
          description: 'A page of deliveries.',
          schema: named(
            'DeliveryList',
            z.object({
              deliveries: z.array(
                deliverySummary.extend({
                  provider: z.string().meta({ description: 'The provider of its order (or of its provider notification).' }),
                }),
              ),
              next_cursor: nextCursor,
            }),
          ),
        },
      },
      errors: ['invalid_request', 'not_found'],
    }),
    recoverDeliveries: route({
      method: 'post',
      path: '/admin/merchants/{merchantId}/deliveries/recover',
      tag: 'deliveries',
      summary: 'Send every failed delivery of a time range again',
      description:
        'Each matching delivery (provider notifications too) is sent again with its original `webhook-id`, the events ' +
        'of one order in their order. A delivery already pending is left alone, so calling it twice sends nothing twice. ' +
        '`409` while the endpoint is disabled.',
      params: z.object({ merchantId: merchantIdParam }),
      body: named('RecoverRequest', recoverBody),
      responses: {
        202: {
          description: 'Queued for sending.',
          schema: named(
            'RecoverResult',
            z.object({
              recovered: z.number().int().meta({ description: 'Deliveries queued again by this call.' }),
              orders: z.number().int().meta({ description: 'Orders (and subjects of provider notifications) this call worked through.' }),
              next_cursor: nextCursor,
            }),
          ),
        },
      },
      errors: ['invalid_request', 'not_found', 'conflict'],
    }),
    getDelivery: route({
      method: 'get',
      path: '/admin/deliveries/{deliveryId}',
      tag: 'deliveries',
      summary: 'One delivery with its attempts and the start of each reply',
      params: deliveryParams,
      responses: { 200: { description: 'The delivery.', schema: named('Delivery', deliveryDetail) } },
      errors: ['not_found'],
    }),
    replayDelivery: route({
      method: 'post',
      path: '/admin/deliveries/{deliveryId}/replay',
      tag: 'deliveries',
      summary: 'Send one delivery again, with the same `webhook-id`',
      description: 'While the endpoint is disabled nothing is sent to it: `409` (enable it first).',
      params: deliveryParams,
      responses: { 202: { description: 'Queued for sending.', schema: named('DeliverySummary', deliverySummary) } },
      errors: ['not_found', 'conflict'],
    }),
  }
}
