/**
 * @module The merchant monitor object's SQLite tables: its endpoint's health (for the circuit breaker), the
 * outbox of operational webhooks, notices already sent (so each is sent once), and rejections per second.
 */
import { num, numOrNull, str, strOrNull, type Row } from './order/columns'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS monitored_merchant (
  singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
  merchant_id  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS endpoint_health (
  singleton        INTEGER PRIMARY KEY CHECK (singleton = 1),
  url              TEXT NOT NULL,
  -- The first failed attempt since the last success; null while the endpoint answers.
  failing_since    INTEGER,
  last_failure_at  INTEGER,
  last_success_at  INTEGER
);
CREATE TABLE IF NOT EXISTS endpoint_enabled (
  singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
  -- When the endpoint was last enabled again: no failure before it starts a streak.
  at         INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ops_events (
  seq               INTEGER PRIMARY KEY AUTOINCREMENT,
  id                TEXT NOT NULL UNIQUE,
  type              TEXT NOT NULL,
  body              TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  next_attempt_at   INTEGER,
  last_status_code  INTEGER,
  last_error        TEXT,
  lease_until       INTEGER,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notices (
  key      TEXT PRIMARY KEY,
  sent_at  INTEGER NOT NULL
);
-- Counted per second: a window of 5 minutes then is one to the second, wherever the minutes fall (per minute, 20
-- rejections 4 minutes apart could straddle 6 minute buckets). The per-minute table of earlier versions goes.
DROP TABLE IF EXISTS rejections;
CREATE TABLE IF NOT EXISTS rejected_seconds (
  second  INTEGER NOT NULL,
  reason  TEXT NOT NULL,
  count   INTEGER NOT NULL,
  PRIMARY KEY (second, reason)
) WITHOUT ROWID;
`

export interface EndpointHealthRow {
  url: string
  failingSince: number | null
  lastFailureAt: number | null
  lastSuccessAt: number | null
}

export interface OpsEventRow {
  seq: number
  id: string
  type: string
  body: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  nextAttemptAt: number | null
  lastStatusCode: number | null
  lastError: string | null
  leaseUntil: number | null
  /** When it was queued (ISO-8601). */
  createdAt: string
}

function toOpsEvent(r: Row): OpsEventRow {
  return {
    seq: num(r.seq),
    id: str(r.id),
    type: str(r.type),
    body: str(r.body),
    status: str(r.status) as OpsEventRow['status'],
    attempts: num(r.attempts),
    nextAttemptAt: numOrNull(r.next_attempt_at),
    lastStatusCode: numOrNull(r.last_status_code),
    lastError: strOrNull(r.last_error),
    leaseUntil: numOrNull(r.lease_until),
    createdAt: str(r.created_at),
  }
}

/** Operational webhooks no longer pending are kept this long. */
const OPS_EVENTS_KEPT_MS = 30 * 24 * 3600_000

export class MonitorStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA)
  }

  /** The merchant this object watches (its name), remembered for the alarm, which is given no arguments. */
  merchantId(): string | null {
    const r = this.sql.exec<Row>('SELECT merchant_id FROM monitored_merchant WHERE singleton = 1').toArray()[0]
    return r === undefined ? null : str(r.merchant_id)
  }

  rememberMerchant(merchantId: string): void {
    this.sql.exec('INSERT INTO monitored_merchant (singleton, merchant_id) VALUES (1, ?) ON CONFLICT (singleton) DO NOTHING', merchantId)
  }

  health(): EndpointHealthRow | null {
    const r = this.sql.exec<Row>('SELECT * FROM endpoint_health WHERE singleton = 1').toArray()[0]
    if (r === undefined) return null
    return {
      url: str(r.url),
      failingSince: numOrNull(r.failing_since),
      lastFailureAt: numOrNull(r.last_failure_at),
      lastSuccessAt: numOrNull(r.last_success_at),
    }
  }

  /**
   * The failing streak ends, the endpoint being enabled again at `at`: no failure before then starts another. When it
   * last answered, and last failed, stay.
   */
  endFailingStreak(at: number): void {
    this.sql.exec('UPDATE endpoint_health SET failing_since = NULL')
    this.sql.exec('INSERT INTO endpoint_enabled (singleton, at) VALUES (1, ?) ON CONFLICT (singleton) DO UPDATE SET at = excluded.at', at)
  }

  /** When the endpoint was last enabled again, or null. */
  enabledAt(): number | null {
    const r = this.sql.exec<Row>('SELECT at FROM endpoint_enabled WHERE singleton = 1').toArray()[0]
    return r === undefined ? null : num(r.at)
  }

  saveHealth(health: EndpointHealthRow): void {
    this.sql.exec(
      `INSERT INTO endpoint_health (singleton, url, failing_since, last_failure_at, last_success_at) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET url = excluded.url, failing_since = excluded.failing_since,
         last_failure_at = excluded.last_failure_at, last_success_at = excluded.last_success_at`,
      health.url,
      health.failingSince,
      health.lastFailureAt,
      health.lastSuccessAt,
    )
  }

  /** Queues an event; one whose id is queued already (told twice) is kept as it is. */
  addOpsEvent(event: { id: string; type: string; body: string }, now: number): void {
    const at = new Date(now).toISOString()
    // Sent (or given up on) long ago: nobody reads them any more.
    this.sql.exec(`DELETE FROM ops_events WHERE status != 'pending' AND updated_at < ?`, new Date(now - OPS_EVENTS_KEPT_MS).toISOString())
    this.sql.exec(
      `INSERT INTO ops_events (id, type, body, status, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
      event.id,
      event.type,
      event.body,
      now,
      at,
      at,
    )
  }

  headOfLine(): OpsEventRow | null {
    const r = this.sql.exec<Row>(`SELECT * FROM ops_events WHERE status = 'pending' ORDER BY seq LIMIT 1`).toArray()[0]
    return r === undefined ? null : toOpsEvent(r)
  }

  opsEvent(id: string): OpsEventRow | null {
    const r = this.sql.exec<Row>('SELECT * FROM ops_events WHERE id = ?', id).toArray()[0]
    return r === undefined ? null : toOpsEvent(r)
  }

  lease(id: string, until: number): void {
    this.sql.exec('UPDATE ops_events SET lease_until = ? WHERE id = ?', until, id)
  }

  updateOpsEvent(
    id: string,
    change: Pick<OpsEventRow, 'status' | 'attempts' | 'nextAttemptAt' | 'lastStatusCode' | 'lastError'>,
    now: number,
  ): void {
    this.sql.exec(
      `UPDATE ops_events SET status = ?, attempts = ?, next_attempt_at = ?, last_status_code = ?, last_error = ?, lease_until = NULL,
         updated_at = ? WHERE id = ?`,
      change.status,
      change.attempts,
      change.nextAttemptAt,
      change.lastStatusCode,
      change.lastError,
      new Date(now).toISOString(),
      id,
    )
  }

  /** When a notice with this key was last sent, or null. */
  noticeSentAt(key: string): number | null {
    const r = this.sql.exec<Row>('SELECT sent_at FROM notices WHERE key = ?', key).toArray()[0]
    return r === undefined ? null : num(r.sent_at)
  }

  rememberNotice(key: string, at: number): void {
    this.sql.exec('INSERT INTO notices (key, sent_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET sent_at = excluded.sent_at', key, at)
  }

  /** Counts a rejection in its second, and lets go of those before `keptFrom`: older than any window still asked about. */
  countRejection(second: number, reason: string, keptFrom: number): void {
    this.sql.exec(
      'INSERT INTO rejected_seconds (second, reason, count) VALUES (?, ?, 1) ON CONFLICT (second, reason) DO UPDATE SET count = count + 1',
      second,
      reason,
    )
    this.sql.exec('DELETE FROM rejected_seconds WHERE second < ?', keptFrom)
  }

  /** Rejections from `sinceSecond` on (Unix seconds), by reason. */
  rejectionsSince(sinceSecond: number): Record<string, number> {
    const rows = this.sql
      .exec<{ reason: string; n: number }>(
        'SELECT reason, sum(count) AS n FROM rejected_seconds WHERE second >= ? GROUP BY reason',
        sinceSecond,
      )
      .toArray()
    return Object.fromEntries(rows.map((row) => [row.reason, row.n]))
  }
}
