/** @module Statements on the outbox: `deliveries` (one per event, drained by the alarm) and `delivery_attempts`. */
import { num, numOrNull, str, strOrNull, type Row } from './columns'
import type { AttemptRow, DeliveryRow, DeliveryStatus, EventType, FailureReason } from './records'

/** A delivery's fields an attempt (or a replay) sets; every change also clears the lease and bumps the version. */
export interface DeliveryChange {
  status: DeliveryStatus
  attempts: number
  nextAttemptAt: number | null
  lastStatusCode: number | null
  lastError: string | null
  /** Set with `failed` only. */
  failureReason?: FailureReason | null
}

/** When a pending delivery is next attempted (ISO-8601); null once it is delivered or failed. */
export function nextAttemptIso(delivery: DeliveryRow): string | null {
  return delivery.status !== 'pending' || delivery.nextAttemptAt === null ? null : new Date(delivery.nextAttemptAt).toISOString()
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
    failureReason: strOrNull(r.failure_reason) as FailureReason | null,
    leaseUntil: numOrNull(r.lease_until),
    countedStatus: strOrNull(r.counted_status) as DeliveryStatus | null,
    countedAttempts: num(r.counted_attempts),
    version: num(r.version),
    projectedVersion: num(r.projected_version),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  }
}

function toAttempt(r: Row): AttemptRow {
  return {
    deliveryId: str(r.delivery_id),
    number: num(r.number),
    startedAt: str(r.started_at),
    statusCode: numOrNull(r.status_code),
    latencyMs: num(r.latency_ms),
    outcome: str(r.outcome),
    error: strOrNull(r.error),
    responseSnippet: strOrNull(r.response_snippet),
  }
}

/** A delivery with its event's id and type, which the admin views and the projection show. */
const SELECT_DELIVERY = `SELECT d.*, e.id AS event_id, e.type AS event_type FROM deliveries d JOIN events e ON e.seq = d.event_seq`

export class DeliveryTables {
  constructor(private readonly sql: SqlStorage) {}

  add(id: string, eventSeq: number, dueAt: number, now: string): void {
    this.sql.exec(
      `INSERT INTO deliveries (id, event_seq, status, next_attempt_at, created_at, updated_at) VALUES (?, ?, 'pending', ?, ?, ?)`,
      id,
      eventSeq,
      dueAt,
      now,
      now,
    )
  }

  all(): DeliveryRow[] {
    return this.sql.exec<Row>(`${SELECT_DELIVERY} ORDER BY d.event_seq`).toArray().map(toDelivery)
  }

  get(id: string): DeliveryRow | null {
    const rows = this.sql.exec<Row>(`${SELECT_DELIVERY} WHERE d.id = ?`, id).toArray()
    return rows[0] ? toDelivery(rows[0]) : null
  }

  /** The delivery that goes next: events reach the merchant in the order they happened. */
  headOfLine(): DeliveryRow | null {
    const rows = this.sql.exec<Row>(`${SELECT_DELIVERY} WHERE d.status = 'pending' ORDER BY d.event_seq LIMIT 1`).toArray()
    return rows[0] ? toDelivery(rows[0]) : null
  }

  lease(id: string, until: number): void {
    this.sql.exec('UPDATE deliveries SET lease_until = ? WHERE id = ?', until, id)
  }

  update(id: string, change: DeliveryChange, now: string): void {
    this.sql.exec(
      `UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status_code = ?, last_error = ?, failure_reason = ?,
         lease_until = NULL, version = version + 1, updated_at = ? WHERE id = ?`,
      change.status,
      change.attempts,
      change.nextAttemptAt,
      change.lastStatusCode,
      change.lastError,
      change.status === 'failed' ? (change.failureReason ?? null) : null,
      now,
      id,
    )
  }

  /**
   * Pending again, due at `dueAt`, attempts and last status kept (a replay or a recovery). What the stats counted
   * of its earlier outcome is forgotten: its next outcome is a new one.
   */
  requeue(id: string, dueAt: number, now: string): void {
    this.sql.exec(
      `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, last_error = NULL, failure_reason = NULL, counted_status = NULL,
         lease_until = NULL, version = version + 1, updated_at = ? WHERE id = ?`,
      dueAt,
      now,
      id,
    )
  }

  unprojected(): DeliveryRow[] {
    return this.sql.exec<Row>(`${SELECT_DELIVERY} WHERE d.projected_version < d.version ORDER BY d.event_seq`).toArray().map(toDelivery)
  }

  /** Marks `version` projected, with the final status and attempts the stats counted in that projection. */
  markProjected(id: string, version: number, counted: { status: DeliveryStatus | null; attempts: number }): void {
    this.sql.exec(
      `UPDATE deliveries SET projected_version = max(projected_version, ?), counted_status = ?, counted_attempts = max(counted_attempts, ?)
       WHERE id = ?`,
      version,
      counted.status,
      counted.attempts,
      id,
    )
  }

  /** Failed deliveries created within [since, until), oldest first. */
  failedBetween(since: string, until: string): DeliveryRow[] {
    return this.sql
      .exec<Row>(
        `${SELECT_DELIVERY} WHERE d.status = 'failed' AND d.created_at >= ? AND d.created_at < ? ORDER BY d.event_seq`,
        since,
        until,
      )
      .toArray()
      .map(toDelivery)
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
    return this.sql.exec<Row>('SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY number', deliveryId).toArray().map(toAttempt)
  }
}
