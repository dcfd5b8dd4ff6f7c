-- Migration number: 0005 2026-11-29
-- Provider notifications that are not about an order (transfers, complaints, Alipay messages other than
-- trade_status_sync) live in subject objects: their deliveries have no out_trade_no but a subject_key,
-- and the type provider.notification. SQLite cannot change a CHECK or a NOT NULL, so deliveries is
-- rebuilt with its rows kept. Notifications gain the type and subject of a provider notification, and
-- rejected notifications may keep their (redacted) raw body for merchants that ask for it.

CREATE TABLE deliveries_new (
  id                TEXT PRIMARY KEY,
  merchant_id       TEXT NOT NULL,
  provider          TEXT NOT NULL,
  out_trade_no      TEXT,
  subject_key       TEXT,
  event_id          TEXT NOT NULL UNIQUE,
  type              TEXT NOT NULL CHECK (type IN ('payment.succeeded', 'payment.closed', 'refund.succeeded', 'refund.failed',
                                                  'refund.closed', 'provider.notification')),
  status            TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  next_attempt_at   TEXT,
  last_status_code  INTEGER,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  version           INTEGER NOT NULL,
  CHECK ((out_trade_no IS NULL) <> (subject_key IS NULL))
);
INSERT INTO deliveries_new (id, merchant_id, provider, out_trade_no, subject_key, event_id, type, status, attempts, next_attempt_at,
  last_status_code, created_at, updated_at, version)
  SELECT id, merchant_id, provider, out_trade_no, NULL, event_id, type, status, attempts, next_attempt_at, last_status_code,
    created_at, updated_at, version FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_by_status ON deliveries (merchant_id, status, created_at DESC, id DESC);

ALTER TABLE notifications ADD COLUMN notification_type TEXT;
ALTER TABLE notifications ADD COLUMN subject_key TEXT;

-- The raw body of a rejected notification, signatures masked, for merchants with keepRejectedBodies:
-- bounded in size (a prefix) and age (pruned when a newer one is kept).
CREATE TABLE rejected_bodies (
  notification_id  TEXT PRIMARY KEY,
  merchant_id      TEXT NOT NULL,
  received_at      TEXT NOT NULL,
  content_type     TEXT,
  -- JSON: the request headers a provider signs with, signatures cut short.
  headers          TEXT NOT NULL,
  body             TEXT NOT NULL,
  truncated        INTEGER NOT NULL CHECK (truncated IN (0, 1))
);
CREATE INDEX rejected_bodies_by_merchant ON rejected_bodies (merchant_id, received_at);
