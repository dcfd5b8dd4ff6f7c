/** @module The query parameters every admin list takes: `limit`, `cursor` (opaque, newest first), `since` / `until`. */
import { fromBase64, fromUtf8, toBase64, utf8 } from '../crypto/encoding'
import { AdminError } from './responses'

export const DEFAULT_LIMIT = 50
export const MAX_LIMIT = 100

/** Where the previous page ended: the sort key of its last row (a time and an id). */
export type Cursor = [at: string, id: string]

export interface ListParams {
  limit: number
  after: Cursor | null
  since: string | null
  until: string | null
}

export function readListParams(params: URLSearchParams): ListParams {
  return {
    limit: readLimit(params.get('limit')),
    after: readCursor(params.get('cursor')),
    since: readInstant(params.get('since'), 'since'),
    until: readInstant(params.get('until'), 'until'),
  }
}

function readLimit(value: string | null): number {
  if (value === null) return DEFAULT_LIMIT
  const limit = /^\d{1,3}$/.test(value) ? Number(value) : Number.NaN
  if (!(limit >= 1 && limit <= MAX_LIMIT)) throw new AdminError('invalid_request', `limit: an integer from 1 to ${MAX_LIMIT}`)
  return limit
}

/** ISO-8601 instants, compared as text after normalizing to the stored form (`…Z` with milliseconds). */
function readInstant(value: string | null, field: string): string | null {
  if (value === null) return null
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(ms)) throw new AdminError('invalid_request', `${field}: an ISO-8601 instant such as 2026-11-25T12:00:00Z`)
  return new Date(ms).toISOString()
}

export function encodeCursor([at, id]: Cursor): string {
  return toBase64(utf8(JSON.stringify([at, id])))
}

function readCursor(cursor: string | null): Cursor | null {
  if (cursor === null) return null
  try {
    const value = JSON.parse(fromUtf8(fromBase64(cursor))) as unknown
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as Cursor
  } catch {
    // fall through to the error below
  }
  throw new AdminError('invalid_request', 'cursor: not a cursor returned by this endpoint')
}

/** One page from rows fetched with `limit + 1`: the rows to show, and the cursor of the next page. */
export function page<T>(rows: T[], limit: number, keyOf: (row: T) => Cursor): { rows: T[]; nextCursor: string | null } {
  const shown = rows.slice(0, limit)
  return { rows: shown, nextCursor: rows.length > limit ? encodeCursor(keyOf(shown[shown.length - 1]!)) : null }
}
