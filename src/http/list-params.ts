/** @module Pages of admin lists: rows fetched with `limit + 1`, newest first, and the opaque cursor of the next page. */
import { fromBase64, fromUtf8, toBase64, utf8 } from '../crypto/encoding'
import type { Cursor } from './schemas'

/** An opaque cursor: base64 of the JSON of where a walk stands. */
export function cursorText(position: unknown): string {
  return toBase64(utf8(JSON.stringify(position)))
}

/** What `cursorText` wrapped, or undefined for text it did not make (each reader then checks the shape it expects). */
export function cursorValue(text: string): unknown {
  try {
    return JSON.parse(fromUtf8(fromBase64(text))) as unknown
  } catch {
    return undefined
  }
}

export function encodeCursor([at, id]: Cursor): string {
  return cursorText([at, id])
}

/** Whether a value read from a cursor is a pair of texts (a position: a time and an id, a provider and a key…). */
export function isTextPair(value: unknown): value is [string, string] {
  return Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')
}

/** A cursor `encodeCursor` made, or null for any other text. */
export function decodeCursor(text: string): Cursor | null {
  const value = cursorValue(text)
  return isTextPair(value) ? value : null
}

/** One page from rows fetched with `limit + 1`: the rows to show, and the cursor of the next page. */
export function page<T>(rows: T[], limit: number, keyOf: (row: T) => Cursor): { rows: T[]; nextCursor: string | null } {
  const shown = rows.slice(0, limit)
  return { rows: shown, nextCursor: rows.length > limit ? encodeCursor(keyOf(shown[shown.length - 1]!)) : null }
}
