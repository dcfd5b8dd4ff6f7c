/**
 * @module The order object's one table, `records`: a kind, a key and a JSON body per row, WITHOUT ROWID so a row is
 * one b-tree entry with no index beside it. One table because every table a new object creates is rows written too
 * (its schema entries), billed like data: a new payment writes this table's schema, its order record, its audit
 * record and its event record, and its alarm one delivery update.
 *
 * Inside `transaction` writes are buffered and each record is written once when the callback returns, however many
 * times the callback changed it (an order created, then paid, then given its forward target: one row), all of them
 * in one statement (a new payment's head and event: one INSERT). Reads see the buffer. Outside a transaction each
 * write goes straight to SQLite.
 *
 * Reads are served from a copy of each kind's rows, loaded on its first read: the object is the only writer of its
 * storage, and one alarm run reads its head and events a dozen times. Every write updates the copy; a transaction
 * that fails drops all of it, to be read again. A row's JSON is parsed on its first read, and every read of it until
 * the running code next awaits returns that one value, deeply frozen (readers build changed copies; `getCopy` gives
 * one to change). Parsed values are let go of then: kept, they would hold every idle object's records as objects in
 * the isolate's heap, and the collector's pauses grow with it (in `npm run bench`, p99 at half load 25 → 80 ms).
 */

import { deepFreeze } from '../../lib/freeze'

/** The object's one table (exported for tests that put a fault on it before the object's first write). */
export const CREATE_RECORDS_TABLE = `CREATE TABLE IF NOT EXISTS records (
  kind  TEXT NOT NULL,
  key   TEXT NOT NULL,
  body  TEXT NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID`

const RECORD_KINDS = ['head', 'notification', 'event', 'refund'] as const
export type RecordKind = (typeof RECORD_KINDS)[number]

/** A stored record: its JSON, and its value once a read parsed it. */
interface Row {
  body: string
  value?: unknown
}

/** A record's body as JSON; null means deleted. */
interface PendingEntry {
  kind: RecordKind
  key: string
  body: string | null
  value?: unknown
}
type Pending = Map<string, PendingEntry>

const slot = (kind: RecordKind, key: string): string => `${kind}\u0000${key}`

/** Records per INSERT: three bound parameters each, and a statement takes at most 100 (platform limit). */
const RECORDS_PER_STATEMENT = 33
const UPSERT = 'ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body'

export class RecordStore {
  private pending: Pending | null = null
  /** Whether the table exists, once known (only this instance creates it, on its first write). */
  private table: 'unknown' | 'present' | 'absent' = 'unknown'
  /** Each kind's rows by key, as stored, once read. */
  private readonly stored = new Map<RecordKind, Map<string, Row>>()
  /** Rows written by this instance's statements (index and schema entries included, as the runtime counts them). */
  private written = 0
  /** Rows holding a parsed value, let go of when the running code next awaits. */
  private readonly parsed = new Set<Row>()

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Whether the table exists (an object that never stored anything has none; reading it must not create it). */
  exists(): boolean {
    if (this.table === 'unknown') {
      const found = this.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'").toArray().length > 0
      this.knowTable(found)
    }
    return this.table === 'present'
  }

  /**
   * Whether the table exists, as the caller's own read of the schema found. An absent table holds no row of any kind,
   * and only this instance will create and fill it: every kind is known (empty) from here, and read from SQLite never.
   */
  knowTable(present: boolean): void {
    this.table = present ? 'present' : 'absent'
    if (!present) for (const kind of RECORD_KINDS) this.stored.set(kind, new Map())
  }

  /** Runs `work` as one SQLite transaction; its writes reach storage once each, at the end, or not at all. */
  transaction<T>(work: () => T): T {
    if (this.pending !== null) return work()
    try {
      return this.storage.transactionSync(() => {
        this.pending = new Map()
        try {
          const result = work()
          this.flush([...this.pending.values()])
          return result
        } finally {
          this.pending = null
        }
      })
    } catch (error) {
      // Rolled back (the table's creation with it, when this transaction made it): forget what was read or written.
      this.table = 'unknown'
      this.stored.clear()
      throw error
    }
  }

  /** The record, frozen: the same value for every read until it is written again. */
  get<T>(kind: RecordKind, key: string): T | null {
    const row = this.row(kind, key)
    return row === null ? null : this.parsedValueOf<T>(row)
  }

  /** The record as a value of the caller's own, to change and `put`. */
  getCopy<T>(kind: RecordKind, key: string): T | null {
    const row = this.row(kind, key)
    return row === null ? null : (JSON.parse(row.body) as T)
  }

  /** Every record of a kind, by key, frozen; with a prefix, those whose key starts with it. */
  list<T>(kind: RecordKind, prefix = ''): Array<{ key: string; value: T }> {
    return this.entries(kind, prefix).map(([key, row]) => ({ key, value: this.parsedValueOf<T>(row) }))
  }

  /** The greatest key of a kind, or null when it has none (nothing parsed). */
  lastKey(kind: RecordKind): string | null {
    return this.entries(kind, '').at(-1)?.[0] ?? null
  }

  put(kind: RecordKind, key: string, value: unknown): void {
    this.change({ kind, key, body: JSON.stringify(value) })
  }

  delete(kind: RecordKind, key: string): void {
    this.change({ kind, key, body: null })
  }

  /** Rows this instance has written so far (the bench's meter): read before and after a write to measure it. */
  rowsWritten(): number {
    return this.written
  }

  /** The row's value: parsed and frozen on its first read since the running code last awaited. */
  private parsedValueOf<T>(row: Row): T {
    if (row.value === undefined) {
      row.value = deepFreeze(JSON.parse(row.body))
      if (this.parsed.size === 0) queueMicrotask(() => this.releaseValues())
      this.parsed.add(row)
    }
    return row.value as T
  }

  private releaseValues(): void {
    for (const row of this.parsed) row.value = undefined
    this.parsed.clear()
  }

  /** The record, the transaction's buffer over what is stored; null when there is none. */
  private row(kind: RecordKind, key: string): Row | null {
    const buffered = this.pending?.get(slot(kind, key))
    if (buffered !== undefined) return asRow(buffered)
    return this.rowsOf(kind).get(key) ?? null
  }

  /** A kind's rows, the transaction's buffer over what is stored, sorted by key. */
  private entries(kind: RecordKind, prefix: string): Array<[string, Row]> {
    const found = new Map<string, Row>()
    for (const [key, row] of this.rowsOf(kind)) if (key.startsWith(prefix)) found.set(key, row)
    for (const entry of this.pending?.values() ?? []) {
      if (entry.kind !== kind || !entry.key.startsWith(prefix)) continue
      const row = asRow(entry)
      if (row === null) found.delete(entry.key)
      else found.set(entry.key, row)
    }
    return [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  }

  private rowsOf(kind: RecordKind): Map<string, Row> {
    let rows = this.stored.get(kind)
    if (rows === undefined) {
      rows = new Map()
      if (this.exists()) {
        const cursor = this.storage.sql.exec<{ key: string; body: string }>('SELECT key, body FROM records WHERE kind = ?', kind)
        for (const { key, body } of cursor) rows.set(key, { body })
      }
      this.stored.set(kind, rows)
    }
    return rows
  }

  /** Inside a transaction, buffered until it ends; outside one, written at once. */
  private change(entry: PendingEntry): void {
    if (this.pending !== null) this.pending.set(slot(entry.kind, entry.key), entry)
    else this.flush([entry])
  }

  /** Writes records: deletions one by one (rare), the rest in as few INSERTs as the parameter limit allows. */
  private flush(entries: PendingEntry[]): void {
    for (const { kind, key, body } of entries) {
      if (body !== null) continue
      this.ensureTable()
      this.count(this.storage.sql.exec('DELETE FROM records WHERE kind = ? AND key = ?', kind, key))
      this.remember(kind, key, null)
    }
    const puts = entries.filter((entry): entry is PendingEntry & { body: string } => entry.body !== null)
    for (let i = 0; i < puts.length; i += RECORDS_PER_STATEMENT) {
      const chunk = puts.slice(i, i + RECORDS_PER_STATEMENT)
      this.ensureTable()
      const values = chunk.map(() => '(?, ?, ?)').join(', ')
      this.count(
        this.storage.sql.exec(
          `INSERT INTO records (kind, key, body) VALUES ${values} ${UPSERT}`,
          ...chunk.flatMap((r) => [r.kind, r.key, r.body]),
        ),
      )
      for (const entry of chunk) this.remember(entry.kind, entry.key, asRow(entry))
    }
  }

  private ensureTable(): void {
    if (this.table === 'present') return
    this.count(this.storage.sql.exec(CREATE_RECORDS_TABLE))
    this.table = 'present'
  }

  /** Keeps the copy of a kind's rows (when loaded) in step with what was just written. */
  private remember(kind: RecordKind, key: string, row: Row | null): void {
    const rows = this.stored.get(kind)
    if (rows === undefined) return
    if (row === null) rows.delete(key)
    else rows.set(key, row)
  }

  private count(cursor: SqlStorageCursor<Record<string, SqlStorageValue>>): void {
    cursor.toArray()
    this.written += cursor.rowsWritten
  }
}

/** A buffered write as the row it makes (the entry itself: a value parsed from it stays with it); null for a deletion. */
function asRow(entry: PendingEntry): Row | null {
  return entry.body === null ? null : (entry as Row)
}
