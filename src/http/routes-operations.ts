/** @module The operations routes as specs: per-merchant stats over time, resealing stored secrets, and the OpenAPI document. */
import * as z from 'zod'
import { strictObject } from '../lib/validation'
import { named, route } from './route-spec'
import { bodyLimit, instant, merchantIdParam, nextCursor, oneOf } from './schemas'

export const STATS_INTERVALS = ['minute', 'hour', 'day'] as const
export const MAX_RESEAL_MERCHANTS = 100
export const MAX_REDRIVE_RECORDS = 1000
export const MAX_RETENTION_OBJECTS = 100

const notificationCounts = {
  accepted: z.number().int(),
  duplicate: z.number().int(),
  rejected: z.number().int(),
}

const deliveryCounts = {
  delivered: z.number().int().meta({ description: 'Deliveries the merchant accepted in the window.' }),
  failed: z
    .number()
    .int()
    .meta({
      description:
        'Deliveries that failed for good (retries ran out, endpoint gone or disabled): in the totals, those created in the ' +
        'window that are failed now, what a recovery would send again (one recovered since is no longer counted); in ' +
        '`series`, the failures in each bucket as they happened.',
    }),
  success_rate: z.number().nullable().meta({ description: 'delivered / (delivered + failed); null when neither happened.' }),
  latency_ms: z
    .object({ p50: z.number().int().nullable(), p95: z.number().int().nullable() })
    .meta({ description: 'Attempt durations: the upper bound of the histogram bucket holding each percentile.' }),
}

const stats = z.object({
  notifications: z.object({
    ...notificationCounts,
    rejected_by_reason: z.record(z.string(), z.number().int()),
  }),
  deliveries: z.object({
    ...deliveryCounts,
    pending: z.number().int().meta({ description: 'Deliveries created in the window that are still pending now.' }),
  }),
  since: z.string().meta({ description: 'The window counted: `since` rounded down to the minute.' }),
  until: z.string().meta({ description: 'The window counted: `until` rounded up to the minute.' }),
  interval: z.enum(STATS_INTERVALS).optional(),
  series: z
    .array(z.object({ start: z.string(), notifications: z.object(notificationCounts), deliveries: z.object(deliveryCounts) }))
    .optional()
    .meta({ description: 'With `interval`: the same counts per bucket, oldest first, every bucket of the window present.' }),
})

export function operationsRoutes() {
  return {
    getStats: route({
      method: 'get',
      path: '/admin/merchants/{merchantId}/stats',
      tag: 'stats',
      summary: "A merchant's notification and delivery counts over a window (default: the last 24 h)",
      description:
        'Counted per minute as the D1 projection runs, so a few seconds behind the order objects. The window is counted in ' +
        'whole minutes (`since` rounded down, `until` up), and the reply gives the window counted.',
      params: z.object({ merchantId: merchantIdParam }),
      query: z.object({
        since: instant.optional(),
        until: instant.optional(),
        interval: oneOf(STATS_INTERVALS).optional().meta({ description: 'Also return `series`, one entry per minute, hour or day.' }),
      }),
      responses: { 200: { description: 'The counts.', schema: named('Stats', stats) } },
      errors: ['invalid_request', 'not_found'],
    }),
    resealSecrets: route({
      method: 'post',
      path: '/admin/reseal',
      tag: 'maintenance',
      summary: 'Seal every stored secret again under the current MASTER_KEY',
      description:
        'During a MASTER_KEY rotation (the old key set as MASTER_KEY_PREVIOUS): afterwards the previous key can be removed. ' +
        'Works through the merchants page by page; call again with `next_cursor` until it is null.',
      body: named(
        'ResealRequest',
        strictObject({
          limit: bodyLimit(MAX_RESEAL_MERCHANTS).optional(),
          cursor: z.string().optional(),
        }),
      ),
      responses: {
        200: {
          description: 'This page done.',
          schema: named(
            'ResealResult',
            z.object({
              resealed: z.number().int().meta({ description: 'Merchants whose secrets were sealed again.' }),
              unchanged: z.number().int().meta({ description: 'Merchants already sealed under the current key.' }),
              unreadable: z.array(z.string()).meta({
                description:
                  'Merchants whose secrets open with neither MASTER_KEY nor MASTER_KEY_PREVIOUS (the key they were sealed under ' +
                  'was removed too early): left as they are; set MASTER_KEY_PREVIOUS to that key and run the reseal again.',
              }),
              next_cursor: nextCursor,
            }),
          ),
        },
      },
      errors: ['invalid_request'],
    }),
    getProjectionStatus: route({
      method: 'get',
      path: '/admin/projection',
      tag: 'maintenance',
      summary: 'How many projection records are parked in the dead-letter store, and since when',
      description:
        'Read-only: records that ran out of queue retries wait here until `POST /admin/projection/redrive` sends them again. ' +
        'A count above 0 means D1 lags behind the order objects for those records.',
      responses: {
        200: {
          description: 'The dead-letter store.',
          schema: named(
            'ProjectionStatus',
            z.object({
              parked: z.number().int().meta({ description: 'Records parked, waiting for a re-drive.' }),
              oldest_parked_at: z
                .string()
                .nullable()
                .meta({ description: 'When the oldest of them was parked (ISO 8601); null when none is.' }),
            }),
          ),
        },
      },
      errors: [],
    }),
    redriveProjection: route({
      method: 'post',
      path: '/admin/projection/redrive',
      tag: 'maintenance',
      summary: 'Send the projection records parked in the dead-letter store back to the projection queue',
      description:
        'Records that ran out of queue retries (D1 unavailable for a long time) are parked, not lost. This sends up to ' +
        '`limit` of them again, oldest first; call again while `remaining` is above 0. Sending a record twice changes nothing.',
      body: named(
        'RedriveRequest',
        strictObject({
          limit: bodyLimit(MAX_REDRIVE_RECORDS).optional(),
        }),
      ),
      responses: {
        200: {
          description: 'Sent again.',
          schema: named(
            'RedriveResult',
            z.object({
              redriven: z.number().int().meta({ description: 'Records put back on the projection queue.' }),
              remaining: z.number().int().meta({ description: 'Records still parked.' }),
            }),
          ),
        },
      },
      errors: ['invalid_request'],
    }),
    scheduleRetention: route({
      method: 'post',
      path: '/admin/merchants/{merchantId}/retention',
      tag: 'maintenance',
      summary: "Give each of a merchant's stored objects its retention date: once after upgrading, or after shortening it",
      description:
        'An order settled before its object kept a retention date (an early version), and every subject object (provider ' +
        'notifications about no order) stored before subjects were kept that way, would hold its raw notifications until ' +
        'it next changes. This walks the orders and subjects D1 knows of, page by page, and has each such object set ' +
        'its date (`ORDER_RETENTION_DAYS` after its last change); after `ORDER_RETENTION_DAYS` is shortened, each later ' +
        'date is brought forward. One with work left, or an alarm no later than its date, is not changed. ' +
        'Call again with `next_cursor` until it is null; calling it twice changes nothing. An object that cannot be reached ' +
        'is counted in `failed` and the walk goes on: walk again later for those.',
      params: z.object({ merchantId: merchantIdParam }),
      body: named(
        'RetentionRequest',
        strictObject({
          limit: bodyLimit(MAX_RETENTION_OBJECTS).optional(),
          cursor: z.string().optional(),
        }),
      ),
      responses: {
        200: {
          description: 'This page done.',
          schema: named(
            'RetentionResult',
            z.object({
              checked: z.number().int().meta({ description: 'Order and subject objects this call asked.' }),
              scheduled: z
                .number()
                .int()
                .meta({ description: 'Of those, the ones whose retention date was set (none before) or brought forward.' }),
              failed: z.number().int().meta({
                description: 'Of those, the ones whose call failed (an object that could not be reached): the next walk asks them again.',
              }),
              next_cursor: nextCursor,
            }),
          ),
        },
      },
      errors: ['invalid_request', 'not_found'],
    }),
    getOpenApi: route({
      method: 'get',
      path: '/admin/openapi.json',
      tag: 'maintenance',
      summary: 'This document (no token needed)',
      auth: false,
      responses: { 200: { description: 'The OpenAPI 3.1 document of the admin API.', schema: z.record(z.string(), z.unknown()) } },
      errors: [],
    }),
  }
}
