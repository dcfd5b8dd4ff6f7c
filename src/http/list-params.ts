/** @module Pages of admin lists: rows fetched with `limit + 1`, newest first, and the opaque cursor of the next page. */
import { fromBase64, fromUtf8, toBase64, utf8 } from '../crypto/encoding'
import type { Cursor } from './schemas'

export function encodeCursor([at, id]: Cursor): string {
  return toBase64(utf8(JSON.stringify([at, id])))
}

/** A cursor `encodeCursor` made, or null for any other text. */
export function decodeCursor(text: string): Cursor | null {
  try {
    const value = JSON.parse(fromUtf8(fromBase64(text))) as unknown
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as Cursor
  } catch {
    // not a cursor
  }
  return null
}

/** One page from rows fetched with `limit + 1`: the rows to show, and the cursor of the next page. */
export function page<T>(rows: T[], limit: number, keyOf: (row: T) => Cursor): { rows: T[]; nextCursor: string | null } {
  const shown = rows.slice(0, limit)
  return { rows: shown, nextCursor: rows.length > limit ? encodeCursor(keyOf(shown[shown.length - 1]!)) : null }
}
