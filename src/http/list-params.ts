/** @module Pages of admin lists: rows fetched with `limit + 1`, newest first, and the opaque cursor of the next page. */
import { toBase64, utf8 } from '../crypto/encoding'
import type { Cursor } from './schemas'

export function encodeCursor([at, id]: Cursor): string {
  return toBase64(utf8(JSON.stringify([at, id])))
}

/** One page from rows fetched with `limit + 1`: the rows to show, and the cursor of the next page. */
export function page<T>(rows: T[], limit: number, keyOf: (row: T) => Cursor): { rows: T[]; nextCursor: string | null } {
  const shown = rows.slice(0, limit)
  return { rows: shown, nextCursor: rows.length > limit ? encodeCursor(keyOf(shown[shown.length - 1]!)) : null }
}
