/**
 * @module Pages of admin lists and walks: rows fetched with `limit + 1`, and the opaque cursor of the next page. A
 * cursor names the list it came from (its name, its merchant; a walk's, its window too) and only that list takes it back: the
 * place it holds in any other list would silently skip or repeat rows.
 */
import { fromBase64, fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../crypto/encoding'
import { AdminError } from './responses'
import type { Cursor } from './schemas'

/**
 * The list a cursor continues: its name, whose list it is (null: one across merchants), and for a walk (recover) the
 * window it walks. A list's filters are not part of it: a cursor is a place in time order, which any filter of the
 * same list can go on from, as Stripe's `starting_after` does.
 */
export interface CursorScope {
  list: string
  merchantId: string | null
  window?: { since: string; until: string | null }
}

/** A cursor as its text holds it: the scope it was made in (as JSON) and where the walk stands. */
export interface ReadCursor {
  scope: string
  position: unknown
}

const NOT_A_CURSOR = 'not a cursor returned by this endpoint'
const EARLIER_CURSOR = 'from an earlier version of the gateway (before an upgrade); start again without a cursor'
const OTHER_LIST =
  'cursor: returned by another list; a cursor continues only the list that returned it (the same list of the same merchant)'

/** Why `text` is not a cursor (for `cursor: …`): one a list of an earlier version wrote (`["time","id"]`), or none. */
export function cursorProblem(text: string): string {
  return isTextPair(cursorValue(text)) ? EARLIER_CURSOR : NOT_A_CURSOR
}

/** One JSON text per list. */
function scopeJson({ list, merchantId, window }: CursorScope): unknown[] {
  return window === undefined ? [list, merchantId] : [list, merchantId, window.since, window.until]
}

/** An opaque cursor that a URL carries as it is: base64url of the JSON of its scope and where the walk stands. */
export function cursorText(scope: CursorScope, position: unknown): string {
  return toBase64Url(utf8(JSON.stringify([scopeJson(scope), position])))
}

/** The JSON a cursor's text holds (base64url, or the padded base64 earlier versions wrote), or undefined for other text. */
export function cursorValue(text: string): unknown {
  try {
    return JSON.parse(fromUtf8(/[+/=]/.test(text) ? fromBase64(text) : fromBase64Url(text))) as unknown
  } catch {
    return undefined
  }
}

/** A cursor `cursorText` made (of any list), or null for any other text. */
export function readCursor(text: string): ReadCursor | null {
  const value = cursorValue(text)
  if (!Array.isArray(value) || value.length !== 2 || !Array.isArray(value[0]) || typeof value[0][0] !== 'string') return null
  return { scope: JSON.stringify(value[0]), position: value[1] }
}

/** Where a cursor stands in this list; 400 `invalid_request` for one another list made, or a position not of this list's shape. */
export function positionIn<P>(cursor: ReadCursor, scope: CursorScope, isPosition: (value: unknown) => value is P): P {
  if (cursor.scope !== JSON.stringify(scopeJson(scope))) throw new AdminError('invalid_request', OTHER_LIST)
  if (!isPosition(cursor.position)) throw new AdminError('invalid_request', `cursor: ${NOT_A_CURSOR}`)
  return cursor.position
}

/** Where a walk sent its cursor in a body (reseal, retention, recover) continues; null when none was sent. */
export function walkPosition<P>(text: string | undefined, scope: CursorScope, isPosition: (value: unknown) => value is P): P | null {
  if (text === undefined) return null
  const cursor = readCursor(text)
  if (cursor === null) throw new AdminError('invalid_request', `cursor: ${cursorProblem(text)}`)
  return positionIn(cursor, scope, isPosition)
}

/** Whether a value read from a cursor is a pair of texts (a position: a time and an id, a provider and a key…). */
export function isTextPair(value: unknown): value is [string, string] {
  return Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')
}

/** Where a list's page starts: after the row the cursor names, or at the newest without one. */
export function listAfter(cursor: ReadCursor | undefined, scope: CursorScope): Cursor | null {
  return cursor === undefined ? null : positionIn(cursor, scope, isTextPair)
}

/** One page from rows fetched with `limit + 1`: the rows to show, and the cursor of the next page of the same list. */
export function page<T>(rows: T[], limit: number, keyOf: (row: T) => Cursor, scope: CursorScope): { rows: T[]; nextCursor: string | null } {
  const shown = rows.slice(0, limit)
  return { rows: shown, nextCursor: rows.length > limit ? cursorText(scope, keyOf(shown[shown.length - 1]!)) : null }
}
