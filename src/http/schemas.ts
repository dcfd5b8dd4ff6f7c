/**
 * @module The zod pieces the admin routes share: list parameters (`limit`, `cursor`, `since`, `until`), path values,
 * order numbers, the error reply. Query values arrive as text; each piece checks and converts it, with the message
 * the API has always given, and says how the OpenAPI document should describe it.
 */
import * as z from 'zod'
import { ATTEMPT_ERRORS } from '../delivery/attempt-errors'
import { MERCHANT_ID_PATTERN } from '../merchants/schema'
import { orderNumberProblem } from '../providers'
import { parseDateTime } from '../lib/date-time'
import { cursorProblem, readCursor } from './list-params'
import { ADMIN_ERROR_CODES } from './responses'

export const DEFAULT_LIMIT = 50
export const MAX_LIMIT = 100

/** JSON Schema to show instead of the generated one (a query value's type after conversion, say). */
export const documentedAs = z.registry<Record<string, unknown>>()

function described<Schema extends z.ZodType>(schema: Schema, jsonSchema: Record<string, unknown>): Schema {
  documentedAs.add(schema, jsonSchema)
  return schema
}

/** Where the previous page ended: the sort key of its last row (a time and an id). */
export type Cursor = [at: string, id: string]

const LIMIT_PROBLEM = `an integer from 1 to ${MAX_LIMIT}`
export const limitParam = described(
  z
    .string()
    .regex(/^\d{1,3}$/, LIMIT_PROBLEM)
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_LIMIT, LIMIT_PROBLEM)
    .optional(),
  { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: 'Rows per page; never clamped.' },
)

export const cursorParam = described(
  z
    .string()
    .transform((text, ctx) => {
      // Which list it came from is checked by the list, which knows its merchant.
      const cursor = readCursor(text)
      if (cursor !== null) return cursor
      ctx.addIssue({ code: 'custom', message: cursorProblem(text) })
      return z.NEVER
    })
    .optional(),
  { type: 'string', description: "The previous page's `next_cursor`, of the same list and merchant (repeat the filters)." },
)

const INSTANT_PROBLEM = 'an ISO-8601 instant such as 2026-11-25T12:00:00Z'
// Stored times are compared as text, which holds only while every year has four digits.
const FIRST_INSTANT = Date.parse('0000-01-01T00:00:00.000Z')
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z')

/**
 * ISO-8601 date-times (RFC 3339's, and seconds or the offset left out: UTC; `±hhmm`; a leap second not, nor a day or
 * hour that does not exist), normalized to the stored form (`…Z` with milliseconds) so they compare as text; in UTC the years 0000–9999.
 */
export const instant = z
  .string()
  .transform((text, ctx) => {
    const ms = parseDateTime(text)
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: INSTANT_PROBLEM })
      return z.NEVER
    }
    if (ms < FIRST_INSTANT || ms > LAST_INSTANT) {
      ctx.addIssue({ code: 'custom', message: 'must fall within the years 0000–9999 in UTC' })
      return z.NEVER
    }
    return new Date(ms).toISOString()
  })
  .meta({ format: 'date-time', examples: ['2026-11-25T12:00:00Z'] })

export const listQuery = {
  limit: limitParam,
  cursor: cursorParam,
  since: described(instant.optional(), { type: 'string', format: 'date-time', description: 'Inclusive lower bound.' }),
  until: described(instant.optional(), {
    type: 'string',
    format: 'date-time',
    description: 'Exclusive upper bound; with `since`, after it (else 400 `invalid_request`).',
  }),
}

/** The query of a plain list: a page, nothing to filter by. */
export const pageQuery = z.object({ limit: listQuery.limit, cursor: listQuery.cursor })

/** A closed set of text values, refused with `one of …` as the hand-written checks said. */
export function oneOf<const Values extends readonly [string, ...string[]]>(values: Values) {
  return z.enum(values, { error: `one of ${values.join(', ')}` })
}

/** An order number, held to the notify side's rule (1–64 printable characters, not `.` or `..`). */
export const orderNumber = z.string().superRefine((value, ctx) => {
  const problem = orderNumberProblem(value)
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem })
})

export const merchantIdParam = z.string().meta({ description: 'The merchant id.', pattern: MERCHANT_ID_PATTERN })
export const outTradeNoParam = orderNumber.meta({ description: "The merchant's order number (1–64 printable characters)." })
export const outRefundNoParam = orderNumber.meta({ description: "The merchant's refund number (1–64 printable characters)." })
export const combineOutTradeNo = orderNumber.meta({
  description:
    'The combined payment (WeChat Pay 合单) the order is a sub-order of: its queries then go through the combine (the ' +
    'APIv3 combined query), the only query WeChat answers for it. WeChat Pay only: with a provider that has no combined ' +
    'payments it is 400 invalid_request. A signed callback naming another combine is believed over this; once WeChat has ' +
    'reported on the order (paid, held or refused), naming another combine is 409 conflict and asks nothing.',
})

/** A body's `limit` (how much one call works through): an integer from 1 to `max`, every problem said the same way. */
export function bodyLimit(max: number) {
  const problem = `an integer from 1 to ${max}`
  return z.number({ error: problem }).int(problem).min(1, problem).max(max, problem)
}

const AMOUNT_PROBLEM = 'must be a positive integer in minor units (fen)'
/** An amount in minor units (fen), as the merchant registers it. */
export const fenAmount = z
  .number({ error: AMOUNT_PROBLEM })
  .int(AMOUNT_PROBLEM)
  .positive(AMOUNT_PROBLEM)
  .max(Number.MAX_SAFE_INTEGER, AMOUNT_PROBLEM)

/** Responses list rows newest first; `next_cursor` is null on the last page. */
export const nextCursor = z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null at the end.' })

/** What went wrong with a delivery attempt that got no usable reply (the AttemptError values of src/delivery/attempt-errors.ts). */
export const ATTEMPT_ERROR = `${ATTEMPT_ERRORS.map((error) => `\`${error}\``).join(', ')}, or null. \`resolves to a refused address\`: the forward URL's host name resolved to a private or reserved address at delivery.`

/** A delivery's `next_attempt_at`, in every view of it. */
export const NEXT_ATTEMPT_AT =
  'When a pending delivery is next attempted; null once it is delivered or failed, and while it waits behind an earlier ' +
  'pending delivery of the same order (events reach the merchant in the order they happened).'
/** What an audit entry's `out_trade_no` names. */
export const ENTRY_ORDER =
  'The order it is about. A notification refused before any order object names one only when refused after its ' +
  'signature verified (merchant_mismatch, unsupported_event, an amount it cannot read): null for one refused before ' +
  'that, whose order number would be the sender’s, for a counted row, and for a provider notification.'

export const errorReply = z.object({
  error: z.object({
    code: z.enum(ADMIN_ERROR_CODES),
    message: z.string().meta({ description: 'For `invalid_request`: `<field>: <problem>`.' }),
  }),
})
