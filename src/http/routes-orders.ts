/** @module The order and audit-trail routes as specs: register an order, ask the provider now, read it; a merchant's notifications. */
import * as z from 'zod'
import { strictObject } from '../lib/validation'
import type { ProviderRegistry } from '../providers'
import { ORDER_STATUSES } from '../storage/order'
import { orderView, VERDICTS } from './order-view'
import { named, route } from './route-spec'
import {
  combineOutTradeNo,
  ENTRY_ORDER,
  fenAmount,
  instant,
  listQuery,
  merchantIdParam,
  nextCursor,
  oneOf,
  orderNumber,
  outRefundNoParam,
  outTradeNoParam,
} from './schemas'

/** A provider named by itself or by one of its channels; refused with the list of both. */
function providerName(registry: ProviderRegistry) {
  const names = [...new Set([...registry.providerNames(), ...registry.channels.map((adapter) => adapter.channel)])]
  // An enum, so the OpenAPI document lists the values the server takes (it said only "string").
  return z
    .enum(names as [string, ...string[]], { error: `one of ${names.join(', ')}` })
    .transform((value) => registry.providerNamed(value)!)
    .meta({ description: `A provider or one of its channels: ${names.join(', ')}.` })
}

const orderParams = z.object({ merchantId: merchantIdParam, outTradeNo: outTradeNoParam })

const notificationRow = z.object({
  id: z.string(),
  channel: z.string(),
  received_at: z.string().meta({
    description:
      'When it was received; for a counted row the latest, while the row keeps the place its first refusals gave it in ' +
      'the list (its order, since / until and the cursor), so paging through a flood never passes it by.',
  }),
  verdict: z.enum(VERDICTS),
  reason: z.string().nullable(),
  out_trade_no: z.string().nullable().meta({ description: ENTRY_ORDER }),
  source: z.string(),
  count: z.number().int().meta({ description: 'Notifications the row stands for: 1, or how many a counted row of refusals counts.' }),
  first_received_at: z.string().nullable().meta({ description: "A counted row's earliest notification." }),
  notification_type: z.string().nullable().meta({ description: "A provider notification's type (its event_type or notify_type)." }),
  subject_id: z.string().nullable().meta({ description: 'The provider id of what a provider notification is about, when it names one.' }),
})

export function orderRoutes(registry: ProviderRegistry) {
  const provider = providerName(registry)
  return {
    putOrder: route({
      method: 'put',
      path: '/admin/merchants/{merchantId}/orders/{outTradeNo}',
      tag: 'orders',
      summary: "Register an order's expected amount",
      description: 'A registered order is checked against its amount, and queried at the provider when no payment is notified.',
      params: orderParams,
      body: named(
        'OrderRegistration',
        strictObject({
          amount: fenAmount,
          currency: z
            .string()
            .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY')
            .optional()
            .meta({ description: 'Default CNY.' }),
          channel: provider.nullable().optional(),
          provider: provider.nullable().optional(),
          expires_at: instant.nullable().optional().meta({ description: 'After this the order can no longer be paid: queries stop.' }),
          combine_out_trade_no: combineOutTradeNo.optional(),
        }),
      ),
      responses: {
        200: {
          description: 'Registered.',
          schema: named(
            'OrderRegistered',
            z.object({
              out_trade_no: z.string(),
              amount: z.number().int(),
              currency: z.string(),
              providers: z.array(z.string()),
              status: z.enum(ORDER_STATUSES),
              combine_out_trade_no: z.string().optional(),
            }),
          ),
        },
      },
      errors: ['invalid_request', 'not_found', 'conflict'],
    }),
    getOrder: route({
      method: 'get',
      path: '/admin/merchants/{merchantId}/orders/{outTradeNo}',
      tag: 'orders',
      summary: 'An order, its events, deliveries and notifications (read from the order itself)',
      params: orderParams,
      query: z.object({ provider: provider.optional() }),
      responses: { 200: { description: 'The order.', schema: named('Order', orderView) } },
      errors: ['invalid_request', 'not_found'],
    }),
    syncOrder: route({
      method: 'post',
      path: '/admin/merchants/{merchantId}/orders/{outTradeNo}/sync',
      tag: 'orders',
      summary: 'Ask the provider about the order now',
      description:
        'Queries the order (and its unsettled refunds) at the provider and applies a verified answer like a notification. ' +
        'An order the gateway has not seen is stored only when the provider reports a payment or a close; otherwise ' +
        'nothing is kept and GET still answers 404 (a combine_out_trade_no named for it is kept only then: register the ' +
        'sub-order to have it watched).',
      params: orderParams,
      query: z.object({ provider: provider.optional(), combine_out_trade_no: combineOutTradeNo.optional() }),
      responses: {
        200: {
          description: 'What each query found.',
          schema: named(
            'OrderSync',
            z.object({
              out_trade_no: z.string(),
              results: z.array(
                z
                  .object({ provider: z.string(), status: z.enum(ORDER_STATUSES), query: z.string(), refunds: z.array(z.unknown()) })
                  .loose(),
              ),
            }),
          ),
        },
      },
      errors: ['invalid_request', 'not_found', 'conflict'],
    }),
    listNotifications: route({
      method: 'get',
      path: '/admin/merchants/{merchantId}/notifications',
      tag: 'notifications',
      summary: "A merchant's audit trail, newest first",
      description:
        'With `out_trade_no`: every notification about that order (accepted, duplicate, rejected), current before the ' +
        'projection catches up. Without it: the refusals, and the notifications about no order (`provider.notification`); ' +
        "an order's accepted and duplicate notifications are counted in the stats, not listed merchant-wide.",
      params: z.object({ merchantId: merchantIdParam }),
      query: z.object({
        out_trade_no: orderNumber.optional(),
        verdict: oneOf(VERDICTS).optional(),
        reason: z
          .string()
          .regex(/^[\x20-\x7e]{1,64}$/, '1–64 printable ASCII characters')
          .optional(),
        ...listQuery,
      }),
      responses: {
        200: {
          description: 'A page of notifications.',
          schema: named('NotificationList', z.object({ notifications: z.array(notificationRow), next_cursor: nextCursor })),
        },
      },
      errors: ['invalid_request', 'not_found'],
    }),
    getNotification: route({
      method: 'get',
      path: '/admin/merchants/{merchantId}/notifications/{notificationId}',
      tag: 'notifications',
      summary: 'One audit entry, with the kept raw body of a rejected notification',
      description: 'With keepRejectedBodies, each refusal keeps its body; a counted row, its first (signatures cut short).',
      params: z.object({ merchantId: merchantIdParam, notificationId: z.string().max(64) }),
      responses: {
        200: {
          description: 'The entry; `body` is null when none was kept.',
          schema: named('Notification', notificationRow.extend({ body: z.record(z.string(), z.unknown()).nullable() })),
        },
      },
      errors: ['invalid_request', 'not_found'],
    }),
    putRefund: route({
      method: 'put',
      path: '/admin/merchants/{merchantId}/orders/{outTradeNo}/refunds/{outRefundNo}',
      tag: 'orders',
      summary: 'Register a refund the merchant asked the provider for',
      description:
        'Settles a held notification of it with this amount, and queries the refund at the provider until it is settled. ' +
        "409 `conflict`, with nothing written, for an amount above the order's, above what is left of it after the refunds " +
        'that succeeded, or other than the amount this refund already succeeded with.',
      params: z.object({ merchantId: merchantIdParam, outTradeNo: outTradeNoParam, outRefundNo: outRefundNoParam }),
      body: named(
        'RefundRegistration',
        strictObject({
          amount: fenAmount,
          channel: provider.nullable().optional(),
          provider: provider.nullable().optional(),
        }),
      ),
      responses: {
        200: {
          description: 'Registered.',
          schema: named(
            'RefundRegistered',
            z.object({
              out_trade_no: z.string(),
              out_refund_no: z.string(),
              amount: z.number().int(),
              providers: z.array(z.string()),
              status: z.string(),
              order_status: z.enum(ORDER_STATUSES),
            }),
          ),
        },
      },
      errors: ['invalid_request', 'not_found', 'conflict'],
    }),
  }
}
