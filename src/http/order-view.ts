/** @module The order as `GET …/orders/{outTradeNo}` shows it: its schema, with what each field means. */
import * as z from 'zod'
import { DELIVERY_STATUSES, KEPT_ATTEMPTS, NOTIFICATION_SOURCES, ORDER_STATUSES, REFUND_STATUSES } from '../storage/order'
import { ATTEMPT_ERROR, NEXT_ATTEMPT_AT } from './schemas'

/** An audit entry's verdict. */
export const VERDICTS = ['accepted', 'duplicate', 'rejected'] as const

/** An attempt as the order view lists it (the delivery view, `GET …/deliveries/{id}`, adds the reply's start). */
const attemptLogEntry = z.object({
  number: z.number().int().meta({ description: "The attempt's number: 1 for the delivery's first." }),
  started_at: z.string(),
  status_code: z.number().int().nullable().meta({ description: "The merchant's HTTP status; null when no reply came." }),
  latency_ms: z.number().int(),
  outcome: z.enum(['delivered', 'retry', 'gone']).meta({ description: 'Delivered (2xx), to be retried, or 410 Gone.' }),
  error: z.string().nullable().meta({ description: ATTEMPT_ERROR }),
})

export const orderView = z
  .object({
    merchant_id: z.string(),
    provider: z.string(),
    out_trade_no: z.string(),
    status: z.enum(ORDER_STATUSES),
    amount: z.number().int().nullable(),
    expected_amount: z.number().int().nullable(),
    currency: z.string().nullable(),
    transaction_id: z.string().nullable(),
    paid_at: z.string().nullable(),
    refunded_amount: z.number().int(),
    updated_at: z.string(),
    compacted_at: z
      .string()
      .nullable()
      .meta({
        description:
          'When the order was last reduced to what it keeps past its retention date (`ORDER_RETENTION_DAYS`): the events ' +
          'it had delivered and its trail of duplicates and refusals from before then are no longer listed here (the ' +
          "merchant's deliveries list keeps their status; its notifications list, the refusals). Null if never.",
      }),
    events: z.array(
      z.object({ id: z.string(), type: z.string(), created_at: z.string(), data: z.record(z.string(), z.unknown()) }).loose(),
    ),
    deliveries: z.array(
      z
        .object({
          id: z.string(),
          event_id: z.string(),
          type: z.string(),
          status: z.enum(DELIVERY_STATUSES),
          attempts: z.number().int(),
          next_attempt_at: z.string().nullable().meta({ description: NEXT_ATTEMPT_AT }),
          last_status_code: z.number().int().nullable(),
          attempt_log: z.array(attemptLogEntry).meta({ description: `Its attempts, oldest first (the latest ${KEPT_ATTEMPTS} are kept).` }),
        })
        .loose(),
    ),
    notifications: z.array(
      z
        .object({
          id: z.string(),
          channel: z.string(),
          received_at: z.string(),
          verdict: z.enum(VERDICTS),
          reason: z.string().nullable(),
          source: z.enum(NOTIFICATION_SOURCES).meta({ description: '`query` when a provider query found it.' }),
        })
        .loose(),
    ),
    refunds: z
      .array(
        z
          .object({
            out_refund_no: z.string(),
            refund_id: z.string().nullable(),
            amount: z.number().int().nullable(),
            status: z.enum(REFUND_STATUSES),
            registered_amount: z.number().int().nullable().meta({ description: 'The amount the merchant registered, if it did.' }),
            next_query_at: z.string().nullable(),
            last_query_result: z.string().nullable(),
          })
          .loose(),
      )
      .meta({ description: 'Every refund the gateway knows of: registered, notified (held while its amount is in doubt), settled.' }),
    reconciliation: z
      .object({
        next_query_at: z.string().nullable(),
        queries_made: z.number().int(),
        last_query_at: z.string().nullable(),
        last_result: z.string().nullable(),
        expires_at: z.string(),
      })
      .nullable()
      .meta({ description: 'Provider queries planned for a registered order whose payment was not notified; null when none.' }),
    other_providers: z.array(z.string()).meta({
      description:
        'Other providers that also hold an order with this number (registered, or paid twice): `?provider=` shows one. ' +
        'Without it the one with the latest activity is shown.',
    }),
  })
  .loose()
