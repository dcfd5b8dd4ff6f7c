/**
 * @module The order object's first SQLite layout, a table per kind, as the numbered migrations objects made before
 * the one-table layout (`record-store.ts`) applied. Kept so such an object can be brought to the last of them and
 * converted (`schema.ts`); never edit one.
 */

interface Migration {
  version: number
  description: string
  up(sql: SqlStorage): void
}

/** The tables as they stood when versioning began; IF NOT EXISTS, so objects made earlier keep their rows. */
const INITIAL_TABLES = `
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
-- Where this merchant's events go (secrets sealed under MASTER_KEY), so deliveries never depend on
-- D1 being reachable.
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

/**
 * Refunds as the gateway learns them, and what a subject object (provider notifications) is about.
 * Safe to run again over current tables, like the first migration.
 */
const REFUNDS_AND_SUBJECTS = `
CREATE TABLE IF NOT EXISTS refunds (
  out_refund_no      TEXT PRIMARY KEY,
  refund_id          TEXT,
  -- What the merchant registered (PUT …/refunds/{no}), if anything.
  registered_amount  INTEGER,
  -- This refund's own amount, once known.
  amount             INTEGER,
  -- Alipay: the trade's cumulative refund_fee this refund's notification reported.
  cumulative         INTEGER,
  status             TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'closed')),
  -- A notification accepted while its own amount is in doubt (JSON), forwarded once a registration or a query settles it.
  held               TEXT,
  next_query_at      INTEGER,
  queries_made       INTEGER NOT NULL DEFAULT 0,
  last_query_at      INTEGER,
  last_result        TEXT,
  expires_at         INTEGER,
  updated_at         TEXT NOT NULL
);
-- Refunds applied before this table existed: settled, with the amounts their events carried.
INSERT OR IGNORE INTO refunds (out_refund_no, amount, status, updated_at)
  SELECT out_refund_no, amount, 'succeeded', '' FROM refunds_applied WHERE outcome = 'succeeded';
INSERT OR IGNORE INTO refunds (out_refund_no, status, updated_at)
  SELECT out_refund_no, CASE outcome WHEN 'closed' THEN 'closed' ELSE 'failed' END, '' FROM refunds_applied
  WHERE outcome IN ('failed', 'closed');
-- Set in a subject object only: the merchant, provider and subject its notifications are about.
CREATE TABLE IF NOT EXISTS subject (
  singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
  merchant_id  TEXT NOT NULL,
  provider     TEXT NOT NULL,
  subject_key  TEXT NOT NULL,
  created_at   TEXT NOT NULL
);
`

/** Ascending by version; an object applies each one above its stored version, once. */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'the tables as of the first versioned release, over whatever an older object holds',
    up(sql) {
      // The earliest objects kept a `fingerprint` where `merchant_version` is now: drop that copy; the
      // next notification, registration or alarm stores the merchant's current settings again.
      const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('forward_target')").toArray()
      if (columns.some((c) => c.name === 'fingerprint')) sql.exec('DROP TABLE forward_target')
      sql.exec(INITIAL_TABLES)
    },
  },
  {
    version: 2,
    description: 'refunds (registered, held, queried) and the subject of a provider-notification object',
    up(sql) {
      sql.exec(REFUNDS_AND_SUBJECTS)
      // A subject object's notifications are of many kinds (v3 event_type, Alipay notify_type).
      const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('notifications')").toArray()
      if (!columns.some((c) => c.name === 'notification_type')) sql.exec('ALTER TABLE notifications ADD COLUMN notification_type TEXT')
    },
  },
  {
    version: 3,
    description: 'why a delivery failed, and what of it the stats have counted',
    up(sql) {
      // Each column only when missing: a migration may run again over current tables (a lost version row).
      const columns = new Set(
        sql
          .exec<{ name: string }>("SELECT name FROM pragma_table_info('deliveries')")
          .toArray()
          .map((c) => c.name),
      )
      const add = (column: string, definition: string): void => {
        if (!columns.has(column)) sql.exec(`ALTER TABLE deliveries ADD COLUMN ${column} ${definition}`)
      }
      // endpoint_disabled, endpoint_gone, retries_exhausted or url_refused while failed; null otherwise.
      add('failure_reason', 'TEXT')
      // The final status and the attempts the D1 stats already counted, so each is counted once.
      add('counted_status', 'TEXT')
      add('counted_attempts', 'INTEGER NOT NULL DEFAULT 0')
    },
  },
]

/** The last legacy migration this object applied (0 for an object made before versioning). Creates nothing. */
export function legacySchemaVersion(sql: SqlStorage): number {
  const hasVersionTable = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_schema'").toArray().length > 0
  if (!hasVersionTable) return 0
  return sql.exec<{ version: number }>('SELECT version FROM _schema WHERE singleton = 1').toArray()[0]?.version ?? 0
}

/** Brings a legacy object's tables to the last table-per-kind layout (migration 3); call inside a transaction. */
export function migrateLegacyTables(sql: SqlStorage): number[] {
  const current = legacySchemaVersion(sql)
  const pending = MIGRATIONS.filter((m) => m.version > current)
  for (const migration of pending) migration.up(sql)
  return pending.map((m) => m.version)
}

/** Every table of the legacy layout, for dropping once their rows are records. */
export const LEGACY_TABLES = [
  '_schema',
  'order_state',
  'seen_notifications',
  'notifications',
  'refunds_applied',
  'refunds',
  'delivery_attempts',
  'deliveries',
  'events',
  'reconciliation',
  'forward_target',
  'subject',
] as const
