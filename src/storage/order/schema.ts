/**
 * @module Which layout an object's storage has, and bringing it to the current one. Version 4 is the one-table layout
 * (`record-store.ts`), made on an object's first write; versions 1–3 were a table per kind (`legacy-schema.ts`). An
 * object still on those is brought to 3 and converted, in one transaction, on its first use.
 */
import { num, numOrNull, str, strOrNull, type Row } from './columns'
import type { EventRecord, StoredDelivery } from './events'
import { LEGACY_TABLES, legacySchemaVersion, migrateLegacyTables } from './legacy-schema'
import { OrderStore } from './order-store'
import type { DeliveryStatus, FailureReason, HeldRefund, NotificationRow, RefundStatus } from './records'
import { RecordStore } from './record-store'
import { Head } from './head'

export const ORDER_SCHEMA_VERSION = 4

/**
 * The object's own tables, in one read: SQLite's, the runtime's (`_cf_…`) and the local runtime's (`__miniflare_do_name`
 * in every persisted object under `wrangler dev`) left out.
 */
function tablesOf(sql: SqlStorage): Set<string> {
  const rows = sql.exec<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_%' ESCAPE '\\'",
  )
  return new Set(rows.toArray().map((row) => row.name))
}

/** Tables only the legacy layout had. */
const LEGACY_MARKERS = ['order_state', 'subject', '_schema']

/** The layout this object's storage has: 4 (current), 1–3 (legacy), 0 (nothing stored, or legacy before versioning). */
export function orderSchemaVersion(sql: SqlStorage): number {
  if (tablesOf(sql).has('records')) return ORDER_SCHEMA_VERSION
  return legacySchemaVersion(sql)
}

/** Whether this object has ever stored anything; reading it creates nothing. */
export function hasOrderStorage(sql: SqlStorage): boolean {
  return tablesOf(sql).size > 0
}

/** Converts a legacy object (all of it or none) and returns the versions it applied: none when it is current or new. */
export function migrateOrderSchema(storage: DurableObjectStorage): number[] {
  return migrate(storage, tablesOf(storage.sql))
}

/**
 * An object's first use: converts a legacy layout (migrateOrderSchema) and tells its store whether the records table
 * exists, from the same one read of the schema.
 */
export function openOrderStorage(storage: DurableObjectStorage, store: OrderStore): void {
  const tables = tablesOf(storage.sql)
  const applied = migrate(storage, tables)
  store.knowTable(tables.has('records') || applied.length > 0)
}

function migrate(storage: DurableObjectStorage, tables: Set<string>): number[] {
  if (tables.has('records') || !LEGACY_MARKERS.some((name) => tables.has(name))) return []
  const { sql } = storage
  return storage.transactionSync(() => {
    const applied = migrateLegacyTables(sql)
    convertLegacyRows(storage)
    for (const table of LEGACY_TABLES) sql.exec(`DROP TABLE IF EXISTS ${table}`)
    return [...applied, ORDER_SCHEMA_VERSION]
  })
}

function convertLegacyRows(storage: DurableObjectStorage): void {
  const { sql } = storage
  const records = new RecordStore(storage)
  const store = new OrderStore(storage)
  const head = new Head(records)
  const one = (query: string): Row | undefined => sql.exec<Row>(query).toArray()[0]
  const order = one('SELECT * FROM order_state WHERE singleton = 1')
  const target = one('SELECT * FROM forward_target WHERE singleton = 1')
  const plan = one('SELECT * FROM reconciliation WHERE singleton = 1')
  const subject = one('SELECT * FROM subject WHERE singleton = 1')
  head.update((h) => {
    if (order) {
      h.order = {
        merchantId: str(order.merchant_id),
        provider: str(order.provider),
        outTradeNo: str(order.out_trade_no),
        status: str(order.status) as never,
        expectedAmount: numOrNull(order.expected_amount),
        expectedCurrency: strOrNull(order.expected_currency),
        amount: numOrNull(order.amount),
        currency: strOrNull(order.currency),
        transactionId: strOrNull(order.transaction_id),
        paidAt: strOrNull(order.paid_at),
        refundedAmount: num(order.refunded_amount),
        version: num(order.version),
        updatedAt: str(order.updated_at),
      }
    }
    if (target) {
      h.forward = {
        url: str(target.url),
        sealedSecret: str(target.sealed_secret),
        sealedPreviousSecret: strOrNull(target.sealed_previous_secret),
        merchantVersion: num(target.merchant_version),
        disabledAt: strOrNull(target.disabled_at),
        updatedAt: str(target.updated_at),
      }
    }
    if (plan) {
      h.reconciliation = {
        nextQueryAt: numOrNull(plan.next_query_at),
        queriesMade: num(plan.queries_made),
        expiresAt: num(plan.expires_at),
        lastQueryAt: numOrNull(plan.last_query_at),
        lastResult: strOrNull(plan.last_result),
      }
    }
    if (subject) {
      const { merchant_id, provider, subject_key, created_at } = subject
      h.subject = { merchantId: str(merchant_id), provider: str(provider), subjectKey: str(subject_key), createdAt: str(created_at) }
    }
  })
  convertNotifications(sql, store)
  convertEvents(sql, store)
  convertRefunds(sql, store)
}

function convertNotifications(sql: SqlStorage, store: OrderStore): void {
  const accepted = new Set<string>()
  for (const r of sql.exec<Row>('SELECT * FROM notifications ORDER BY rowid').toArray()) {
    const row: NotificationRow = {
      id: str(r.id),
      channel: str(r.channel) as never,
      providerNotificationId: str(r.provider_notification_id),
      receivedAt: str(r.received_at),
      verdict: str(r.verdict) as NotificationRow['verdict'],
      reason: strOrNull(r.reason),
      source: str(r.source) as NotificationRow['source'],
      notificationType: strOrNull(r.notification_type),
    }
    // An accepted row is its provider id's dedupe key: one per id.
    const verdict = row.verdict === 'accepted' && accepted.has(row.providerNotificationId) ? 'duplicate' : row.verdict
    if (verdict === 'accepted') accepted.add(row.providerNotificationId)
    store.notifications.record({ ...row, verdict })
  }
  // Seen without an accepted audit row (not written by any release, but the dedupe set is what must survive).
  for (const r of sql.exec<Row>('SELECT * FROM seen_notifications').toArray()) {
    const id = str(r.provider_notification_id)
    if (accepted.has(id)) continue
    const at = str(r.accepted_at)
    store.notifications.record({
      id: `ntf_seen_${id}`,
      channel: 'unknown' as never,
      providerNotificationId: id,
      receivedAt: at,
      verdict: 'accepted',
      reason: null,
      source: 'notify',
    })
  }
}

function convertEvents(sql: SqlStorage, store: OrderStore): void {
  const deliveries = new Map(
    sql
      .exec<Row>('SELECT * FROM deliveries')
      .toArray()
      .map((d) => [num(d.event_seq), d]),
  )
  for (const e of sql.exec<Row>('SELECT * FROM events ORDER BY seq').toArray()) {
    const d = deliveries.get(num(e.seq))
    let delivery: StoredDelivery | null = null
    if (d) {
      const attempts = sql.exec<Row>('SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY number', d.id).toArray()
      delivery = {
        id: str(d.id),
        status: str(d.status) as DeliveryStatus,
        attempts: num(d.attempts),
        nextAttemptAt: numOrNull(d.next_attempt_at),
        lastStatusCode: numOrNull(d.last_status_code),
        lastError: strOrNull(d.last_error),
        failureReason: strOrNull(d.failure_reason) as FailureReason | null,
        version: num(d.version),
        createdAt: str(d.created_at),
        updatedAt: str(d.updated_at),
        attemptLog: attempts.map((a) => ({
          number: num(a.number),
          startedAt: str(a.started_at),
          statusCode: numOrNull(a.status_code),
          latencyMs: num(a.latency_ms),
          outcome: str(a.outcome),
          error: strOrNull(a.error),
          responseSnippet: strOrNull(a.response_snippet),
        })),
      }
    }
    const record: EventRecord = {
      seq: num(e.seq),
      id: str(e.id),
      type: str(e.type) as never,
      channel: str(e.channel) as never,
      body: str(e.body),
      createdAt: str(e.created_at),
      delivery,
    }
    store.events.put(record)
  }
}

function convertRefunds(sql: SqlStorage, store: OrderStore): void {
  for (const r of sql.exec<Row>('SELECT * FROM refunds ORDER BY rowid').toArray()) {
    const held = strOrNull(r.held)
    store.refunds.save(
      {
        outRefundNo: str(r.out_refund_no),
        refundId: strOrNull(r.refund_id),
        registeredAmount: numOrNull(r.registered_amount),
        amount: numOrNull(r.amount),
        cumulative: numOrNull(r.cumulative),
        status: str(r.status) as RefundStatus,
        held: held === null ? null : (JSON.parse(held) as HeldRefund),
        nextQueryAt: numOrNull(r.next_query_at),
        queriesMade: num(r.queries_made),
        lastQueryAt: numOrNull(r.last_query_at),
        lastResult: strOrNull(r.last_result),
        expiresAt: numOrNull(r.expires_at),
      },
      str(r.updated_at),
    )
  }
  for (const r of sql.exec<Row>('SELECT * FROM refunds_applied').toArray())
    store.refunds.record(str(r.out_refund_no), str(r.outcome), num(r.amount))
}
