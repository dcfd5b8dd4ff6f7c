/**
 * @module The order object's own SQLite tables and every statement on them. All methods are
 * synchronous, so a caller can compose them inside one `transactionSync`.
 */
import type { ChannelName as Channel, ProviderName as Provider } from '../providers/core/types'
import type { OrderProjection, ProjectionBatch } from '../storage/projection'
import type { EventType } from './events'
import type { OrderRef } from './order-key'
import type { OrderState, OrderStatus, RefundLedger } from './state-machine'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS order_state (
  singleton          INTEGER PRIMARY KEY CHECK (singleton = 1),
  merchant_id        TEXT NOT NULL,
  provider           TEXT NOT NULL,
  out_trade_no       TEXT NOT NULL,
  status             TEXT NOT NULL,
  expected_amount    INTEGER,
  expected_currency  TEXT,
  amount             INTEGER,
  currency           TEXT,
  transaction_id     TEXT,
  paid_at            TEXT,
  refunded_amount    INTEGER NOT NULL DEFAULT 0,
  version            INTEGER NOT NULL,
  projected_version  INTEGER NOT NULL DEFAULT 0,
  updated_at         TEXT NOT NULL
);
-- Notifications that were accepted: the dedupe set.
CREATE TABLE IF NOT EXISTS seen_notifications (
  provider_notification_id  TEXT PRIMARY KEY,
  accepted_at               TEXT NOT NULL
);
-- Every notification that reached this order, with its verdict (audit trail).
CREATE TABLE IF NOT EXISTS notifications (
  id                        TEXT PRIMARY KEY,
  channel                   TEXT NOT NULL,
  provider_notification_id  TEXT NOT NULL,
  received_at               TEXT NOT NULL,
  verdict                   TEXT NOT NULL,
  reason                    TEXT,
  source                    TEXT NOT NULL,
  projected                 INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS refunds_applied (
  out_refund_no  TEXT NOT NULL,
  outcome        TEXT NOT NULL,
  amount         INTEGER NOT NULL,
  PRIMARY KEY (out_refund_no, outcome)
);
-- One row per state change, in the order they happened; the body is what the merchant receives.
CREATE TABLE IF NOT EXISTS events (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  type        TEXT NOT NULL,
  channel     TEXT NOT NULL,
  body        TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
-- The outbox: one delivery per event, drained by the alarm.
CREATE TABLE IF NOT EXISTS deliveries (
  id                 TEXT PRIMARY KEY,
  event_seq          INTEGER NOT NULL UNIQUE REFERENCES events (seq),
  status             TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    INTEGER,
  last_status_code   INTEGER,
  last_error         TEXT,
  lease_until        INTEGER,
  version            INTEGER NOT NULL DEFAULT 1,
  projected_version  INTEGER NOT NULL DEFAULT 0,
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS delivery_attempts (
  delivery_id       TEXT NOT NULL,
  number            INTEGER NOT NULL,
  started_at        TEXT NOT NULL,
  status_code       INTEGER,
  latency_ms        INTEGER NOT NULL,
  outcome           TEXT NOT NULL,
  error             TEXT,
  response_snippet  TEXT,
  PRIMARY KEY (delivery_id, number)
);
-- Asking the provider about a registered order whose payment was not (yet) notified.
CREATE TABLE IF NOT EXISTS reconciliation (
  singleton      INTEGER PRIMARY KEY CHECK (singleton = 1),
  next_query_at  INTEGER,
  queries_made   INTEGER NOT NULL DEFAULT 0,
  expires_at     INTEGER NOT NULL,
  last_query_at  INTEGER,
  last_result    TEXT
);
-- Where this merchant's events go, as of the latest notification (secrets sealed under MASTER_KEY),
-- so deliveries never depend on D1 being reachable.
CREATE TABLE IF NOT EXISTS forward_target (
  singleton               INTEGER PRIMARY KEY CHECK (singleton = 1),
  url                     TEXT NOT NULL,
  sealed_secret           TEXT NOT NULL,
  sealed_previous_secret  TEXT,
  -- The merchant row's version these settings come from: an older copy never replaces a newer one.
  merchant_version        INTEGER NOT NULL,
  -- Set once the endpoint answered 410 Gone: nothing more is sent until the merchant is saved again.
  disabled_at             TEXT,
  updated_at              TEXT NOT NULL
);
`

export interface OrderRow extends OrderState {
  merchantId: string
  provider: Provider
  outTradeNo: string
  version: number
  projectedVersion: number
  updatedAt: string
}

export interface NotificationRow {
  id: string
  channel: Channel
  providerNotificationId: string
  receivedAt: string
  verdict: 'accepted' | 'duplicate' | 'rejected'
  reason: string | null
  source: 'notify' | 'query'
}

export interface EventRow {
  seq: number
  id: string
  type: EventType
  channel: Channel
  body: string
  createdAt: string
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed'

export interface DeliveryRow {
  id: string
  eventSeq: number
  eventId: string
  eventType: EventType
  status: DeliveryStatus
  attempts: number
  nextAttemptAt: number | null
  lastStatusCode: number | null
  lastError: string | null
  leaseUntil: number | null
  version: number
  projectedVersion: number
  createdAt: string
  updatedAt: string
}

/** When a pending delivery is next attempted (ISO-8601); null once it is delivered or failed. */
export function nextAttemptIso(delivery: DeliveryRow): string | null {
  return delivery.status !== 'pending' || delivery.nextAttemptAt === null ? null : new Date(delivery.nextAttemptAt).toISOString()
}

export interface AttemptRow {
  deliveryId: string
  number: number
  startedAt: string
  statusCode: number | null
  latencyMs: number
  outcome: string
  error: string | null
  responseSnippet: string | null
}

export interface ReconciliationRow {
  /** Epoch ms of the next query, or null when none is planned. */
  nextQueryAt: number | null
  queriesMade: number
  expiresAt: number
  lastQueryAt: number | null
  /** The last query's outcome in a few words (`not_paid: NOTPAY`, `paid`, `failed: network`). */
  lastResult: string | null
}

export interface ForwardTargetRow {
  url: string
  sealedSecret: string
  sealedPreviousSecret: string | null
  merchantVersion: number
  disabledAt: string | null
}

type Row = Record<string, SqlStorageValue>

const str = (v: SqlStorageValue | undefined): string => v as string
const strOrNull = (v: SqlStorageValue | undefined): string | null => (v === null || v === undefined ? null : (v as string))
const num = (v: SqlStorageValue | undefined): number => v as number
const numOrNull = (v: SqlStorageValue | undefined): number | null => (v === null || v === undefined ? null : (v as number))

function toOrder(r: Row): OrderRow {
  return {
    merchantId: str(r.merchant_id),
    provider: str(r.provider) as Provider,
    outTradeNo: str(r.out_trade_no),
    status: str(r.status) as OrderStatus,
    expectedAmount: numOrNull(r.expected_amount),
    expectedCurrency: strOrNull(r.expected_currency),
    amount: numOrNull(r.amount),
    currency: strOrNull(r.currency),
    transactionId: strOrNull(r.transaction_id),
    paidAt: strOrNull(r.paid_at),
    refundedAmount: num(r.refunded_amount),
    version: num(r.version),
    projectedVersion: num(r.projected_version),
    updatedAt: str(r.updated_at),
  }
}

function toNotification(r: Row): NotificationRow {
  return {
    id: str(r.id),
    channel: str(r.channel) as Channel,
    providerNotificationId: str(r.provider_notification_id),
    receivedAt: str(r.received_at),
    verdict: str(r.verdict) as NotificationRow['verdict'],
    reason: strOrNull(r.reason),
    source: str(r.source) as NotificationRow['source'],
  }
}

function toEvent(r: Row): EventRow {
  return {
    seq: num(r.seq),
    id: str(r.id),
    type: str(r.type) as EventType,
    channel: str(r.channel) as Channel,
    body: str(r.body),
    createdAt: str(r.created_at),
  }
}

function toDelivery(r: Row): DeliveryRow {
  return {
    id: str(r.id),
    eventSeq: num(r.event_seq),
    eventId: str(r.event_id),
    eventType: str(r.event_type) as EventType,
    status: str(r.status) as DeliveryStatus,
    attempts: num(r.attempts),
    nextAttemptAt: numOrNull(r.next_attempt_at),
    lastStatusCode: numOrNull(r.last_status_code),
    lastError: strOrNull(r.last_error),
    leaseUntil: numOrNull(r.lease_until),
    version: num(r.version),
    projectedVersion: num(r.projected_version),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  }
}

const DELIVERY_COLUMNS = `d.*, e.id AS event_id, e.type AS event_type`

export class OrderStore {
  constructor(private readonly sql: SqlStorage) {}

  migrate(): void {
    // Objects made before forward targets were versioned: drop the old table; the next alarm or
    // notification stores the merchant's current settings again.
    const columns = this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('forward_target')").toArray()
    if (columns.some((c) => c.name === 'fingerprint')) this.sql.exec('DROP TABLE forward_target')
    this.sql.exec(SCHEMA)
  }

  order(): OrderRow | null {
    const rows = this.sql.exec<Row>('SELECT * FROM order_state WHERE singleton = 1').toArray()
    return rows[0] ? toOrder(rows[0]) : null
  }

  /** The order's row, created `pending` on first contact. */
  ensureOrder(ref: OrderRef, now: string): OrderRow {
    this.sql.exec(
      `INSERT INTO order_state (singleton, merchant_id, provider, out_trade_no, status, version, updated_at)
       VALUES (1, ?, ?, ?, 'pending', 1, ?) ON CONFLICT (singleton) DO NOTHING`,
      ref.merchantId,
      ref.provider,
      ref.outTradeNo,
      now,
    )
    return this.order()!
  }

  saveOrder(state: OrderState, now: string): void {
    this.sql.exec(
      `UPDATE order_state SET status = ?, expected_amount = ?, expected_currency = ?, amount = ?, currency = ?,
         transaction_id = ?, paid_at = ?, refunded_amount = ?, version = version + 1, updated_at = ?
       WHERE singleton = 1`,
      state.status,
      state.expectedAmount,
      state.expectedCurrency,
      state.amount,
      state.currency,
      state.transactionId,
      state.paidAt,
      state.refundedAmount,
      now,
    )
  }

  markOrderProjected(version: number): void {
    this.sql.exec('UPDATE order_state SET projected_version = max(projected_version, ?) WHERE singleton = 1', version)
  }

  hasSeen(providerNotificationId: string): boolean {
    return this.sql.exec('SELECT 1 FROM seen_notifications WHERE provider_notification_id = ?', providerNotificationId).toArray().length > 0
  }

  markSeen(providerNotificationId: string, now: string): void {
    this.sql.exec('INSERT INTO seen_notifications (provider_notification_id, accepted_at) VALUES (?, ?)', providerNotificationId, now)
  }

  recordNotification(row: NotificationRow): void {
    this.sql.exec(
      `INSERT INTO notifications (id, channel, provider_notification_id, received_at, verdict, reason, source)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      row.id,
      row.channel,
      row.providerNotificationId,
      row.receivedAt,
      row.verdict,
      row.reason,
      row.source,
    )
  }

  notifications(): NotificationRow[] {
    return this.sql.exec<Row>('SELECT * FROM notifications ORDER BY received_at, rowid').toArray().map(toNotification)
  }

  unprojectedNotifications(limit: number): NotificationRow[] {
    return this.sql.exec<Row>('SELECT * FROM notifications WHERE projected = 0 ORDER BY rowid LIMIT ?', limit).toArray().map(toNotification)
  }

  markNotificationsProjected(ids: string[]): void {
    for (const id of ids) this.sql.exec('UPDATE notifications SET projected = 1 WHERE id = ?', id)
  }

  refundLedger(): RefundLedger {
    return {
      has: (outRefundNo, outcome) =>
        this.sql.exec('SELECT 1 FROM refunds_applied WHERE out_refund_no = ? AND outcome = ?', outRefundNo, outcome).toArray().length > 0,
    }
  }

  recordRefund(outRefundNo: string, outcome: string, amount: number): void {
    this.sql.exec(
      'INSERT INTO refunds_applied (out_refund_no, outcome, amount) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      outRefundNo,
      outcome,
      amount,
    )
  }

  addEvent(event: Omit<EventRow, 'seq'>): number {
    return num(
      this.sql
        .exec<Row>(
          'INSERT INTO events (id, type, channel, body, created_at) VALUES (?, ?, ?, ?, ?) RETURNING seq',
          event.id,
          event.type,
          event.channel,
          event.body,
          event.createdAt,
        )
        .one().seq,
    )
  }

  events(): EventRow[] {
    return this.sql.exec<Row>('SELECT * FROM events ORDER BY seq').toArray().map(toEvent)
  }

  event(seq: number): EventRow {
    return toEvent(this.sql.exec<Row>('SELECT * FROM events WHERE seq = ?', seq).one())
  }

  addDelivery(id: string, eventSeq: number, dueAt: number, now: string): void {
    this.sql.exec(
      `INSERT INTO deliveries (id, event_seq, status, next_attempt_at, created_at, updated_at) VALUES (?, ?, 'pending', ?, ?, ?)`,
      id,
      eventSeq,
      dueAt,
      now,
      now,
    )
  }

  deliveries(): DeliveryRow[] {
    return this.sql
      .exec<Row>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq ORDER BY d.event_seq`)
      .toArray()
      .map(toDelivery)
  }

  delivery(id: string): DeliveryRow | null {
    const rows = this.sql.exec<Row>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.id = ?`, id).toArray()
    return rows[0] ? toDelivery(rows[0]) : null
  }

  /** The delivery that goes next: events reach the merchant in the order they happened. */
  headOfLine(): DeliveryRow | null {
    const rows = this.sql
      .exec<Row>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.status = 'pending' ORDER BY d.event_seq LIMIT 1`)
      .toArray()
    return rows[0] ? toDelivery(rows[0]) : null
  }

  leaseDelivery(id: string, until: number): void {
    this.sql.exec('UPDATE deliveries SET lease_until = ? WHERE id = ?', until, id)
  }

  updateDelivery(
    id: string,
    change: { status: DeliveryStatus; attempts: number; nextAttemptAt: number | null; lastStatusCode: number | null; lastError: string | null },
    now: string,
  ): void {
    this.sql.exec(
      `UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status_code = ?, last_error = ?,
         lease_until = NULL, version = version + 1, updated_at = ? WHERE id = ?`,
      change.status,
      change.attempts,
      change.nextAttemptAt,
      change.lastStatusCode,
      change.lastError,
      now,
      id,
    )
  }

  unprojectedDeliveries(): DeliveryRow[] {
    return this.sql
      .exec<Row>(`SELECT ${DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.projected_version < d.version ORDER BY d.event_seq`)
      .toArray()
      .map(toDelivery)
  }

  markDeliveryProjected(id: string, version: number): void {
    this.sql.exec('UPDATE deliveries SET projected_version = max(projected_version, ?) WHERE id = ?', version, id)
  }

  recordAttempt(row: AttemptRow): void {
    this.sql.exec(
      `INSERT INTO delivery_attempts (delivery_id, number, started_at, status_code, latency_ms, outcome, error, response_snippet)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      row.deliveryId,
      row.number,
      row.startedAt,
      row.statusCode,
      row.latencyMs,
      row.outcome,
      row.error,
      row.responseSnippet,
    )
  }

  attempts(deliveryId: string): AttemptRow[] {
    return this.sql
      .exec<Row>('SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY number', deliveryId)
      .toArray()
      .map((r) => ({
        deliveryId: str(r.delivery_id),
        number: num(r.number),
        startedAt: str(r.started_at),
        statusCode: numOrNull(r.status_code),
        latencyMs: num(r.latency_ms),
        outcome: str(r.outcome),
        error: strOrNull(r.error),
        responseSnippet: strOrNull(r.response_snippet),
      }))
  }

  reconciliation(): ReconciliationRow | null {
    const r = this.sql.exec<Row>('SELECT * FROM reconciliation WHERE singleton = 1').toArray()[0]
    return r
      ? {
          nextQueryAt: numOrNull(r.next_query_at),
          queriesMade: num(r.queries_made),
          expiresAt: num(r.expires_at),
          lastQueryAt: numOrNull(r.last_query_at),
          lastResult: strOrNull(r.last_result),
        }
      : null
  }

  /** Plans a query at `at` (keeping an earlier plan), watching the order until `expiresAt`. */
  planQuery(at: number, expiresAt: number): void {
    this.sql.exec(
      `INSERT INTO reconciliation (singleton, next_query_at, expires_at) VALUES (1, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at),
         next_query_at = CASE WHEN next_query_at IS NULL OR excluded.next_query_at < next_query_at
                              THEN excluded.next_query_at ELSE next_query_at END`,
      at,
      expiresAt,
    )
  }

  /** A reconciliation row with nothing planned, for an on-demand query of an unregistered order. */
  ensureReconciliation(expiresAt: number): void {
    this.sql.exec('INSERT INTO reconciliation (singleton, expires_at) VALUES (1, ?) ON CONFLICT (singleton) DO NOTHING', expiresAt)
  }

  recordQuery(at: number, result: string, nextQueryAt: number | null): void {
    this.sql.exec(
      `UPDATE reconciliation SET queries_made = queries_made + 1, last_query_at = ?, last_result = ?, next_query_at = ?
       WHERE singleton = 1`,
      at,
      result,
      nextQueryAt,
    )
  }

  stopQueries(): void {
    this.sql.exec('UPDATE reconciliation SET next_query_at = NULL WHERE singleton = 1')
  }

  /** Everything the D1 projection has not received yet, in the projection's shapes. */
  unprojected(): ProjectionBatch {
    const order = this.order()!
    const { merchantId, provider, outTradeNo } = order
    return {
      order: order.projectedVersion < order.version ? orderProjection(order) : null,
      notifications: this.unprojectedNotifications(500).map((n) => ({
        id: n.id,
        merchantId,
        channel: n.channel,
        outTradeNo,
        providerNotificationId: n.providerNotificationId,
        receivedAt: n.receivedAt,
        verdict: n.verdict,
        reason: n.reason,
        source: n.source,
      })),
      deliveries: this.unprojectedDeliveries().map((d) => ({
        id: d.id,
        merchantId,
        provider,
        outTradeNo,
        eventId: d.eventId,
        type: d.eventType,
        status: d.status,
        attempts: d.attempts,
        nextAttemptAt: nextAttemptIso(d),
        lastStatusCode: d.lastStatusCode,
        createdAt: d.createdAt,
        updatedAt: d.updatedAt,
        version: d.version,
      })),
    }
  }

  /** Marks exactly what `batch` sent: rows added or changed meanwhile stay unprojected. */
  markProjected(batch: ProjectionBatch): void {
    if (batch.order) this.markOrderProjected(batch.order.version)
    this.markNotificationsProjected(batch.notifications.map((n) => n.id))
    for (const d of batch.deliveries) this.markDeliveryProjected(d.id, d.version)
  }

  disableForwardTarget(now: string): void {
    // Until settings with a newer version arrive: saving the merchant again re-enables it.
    this.sql.exec('UPDATE forward_target SET disabled_at = coalesce(disabled_at, ?) WHERE singleton = 1', now)
  }

  forwardTarget(): ForwardTargetRow | null {
    const rows = this.sql.exec<Row>('SELECT * FROM forward_target WHERE singleton = 1').toArray()
    const r = rows[0]
    return r
      ? {
          url: str(r.url),
          sealedSecret: str(r.sealed_secret),
          sealedPreviousSecret: strOrNull(r.sealed_previous_secret),
          merchantVersion: num(r.merchant_version),
          disabledAt: strOrNull(r.disabled_at),
        }
      : null
  }

  saveForwardTarget(target: ForwardTargetRow, now: string): void {
    this.sql.exec(
      `INSERT INTO forward_target (singleton, url, sealed_secret, sealed_previous_secret, merchant_version, disabled_at, updated_at)
       VALUES (1, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET url = excluded.url, sealed_secret = excluded.sealed_secret,
         sealed_previous_secret = excluded.sealed_previous_secret, merchant_version = excluded.merchant_version,
         disabled_at = excluded.disabled_at, updated_at = excluded.updated_at
       WHERE excluded.merchant_version > forward_target.merchant_version`,
      target.url,
      target.sealedSecret,
      target.sealedPreviousSecret,
      target.merchantVersion,
      target.disabledAt,
      now,
    )
  }
}

function orderProjection(order: OrderRow): OrderProjection {
  return {
    merchantId: order.merchantId,
    provider: order.provider,
    outTradeNo: order.outTradeNo,
    status: order.status,
    expectedAmount: order.expectedAmount,
    amount: order.amount,
    currency: order.currency ?? order.expectedCurrency,
    transactionId: order.transactionId,
    paidAt: order.paidAt,
    refundedAmount: order.refundedAmount,
    version: order.version,
    updatedAt: order.updatedAt,
  }
}
