-- Migration number: 0002 2026-11-29
-- Providers and channels are named by the gateway's provider registry (src/providers/index.ts), not by
-- this schema: a gateway built with another provider must be able to project its orders. SQLite cannot
-- drop a CHECK constraint, so the three tables that had one on provider or channel are rebuilt with
-- their rows kept; statuses, verdicts and event types keep theirs.

CREATE TABLE orders_new (
  merchant_id      TEXT NOT NULL,
  provider         TEXT NOT NULL,
  out_trade_no     TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'partially_refunded', 'refunded', 'closed', 'amount_mismatch')),
  expected_amount  INTEGER,
  amount           INTEGER,
  currency         TEXT,
  transaction_id   TEXT,
  paid_at          TEXT,
  refunded_amount  INTEGER NOT NULL DEFAULT 0,
  -- The order object's change counter: an upsert only lands when it is newer.
  version          INTEGER NOT NULL,
  updated_at       TEXT NOT NULL,
  PRIMARY KEY (merchant_id, provider, out_trade_no)
);
INSERT INTO orders_new SELECT merchant_id, provider, out_trade_no, status, expected_amount, amount, currency,
  transaction_id, paid_at, refunded_amount, version, updated_at FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;

CREATE TABLE notifications_new (
  id                        TEXT PRIMARY KEY,
  merchant_id               TEXT NOT NULL,
  channel                   TEXT NOT NULL,
  out_trade_no              TEXT,
  provider_notification_id  TEXT,
  received_at               TEXT NOT NULL,
  verdict                   TEXT NOT NULL CHECK (verdict IN ('accepted', 'duplicate', 'rejected')),
  reason                    TEXT,
  source                    TEXT NOT NULL DEFAULT 'notify' CHECK (source IN ('notify', 'query'))
);
INSERT INTO notifications_new SELECT id, merchant_id, channel, out_trade_no, provider_notification_id, received_at,
  verdict, reason, source FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_by_order ON notifications (merchant_id, out_trade_no, received_at);

CREATE TABLE deliveries_new (
  id                TEXT PRIMARY KEY,
  merchant_id       TEXT NOT NULL,
  provider          TEXT NOT NULL,
  out_trade_no      TEXT NOT NULL,
  event_id          TEXT NOT NULL UNIQUE,
  type              TEXT NOT NULL CHECK (type IN ('payment.succeeded', 'payment.closed', 'refund.succeeded', 'refund.failed', 'refund.closed')),
  status            TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  next_attempt_at   TEXT,
  last_status_code  INTEGER,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  version           INTEGER NOT NULL
);
INSERT INTO deliveries_new SELECT id, merchant_id, provider, out_trade_no, event_id, type, status, attempts,
  next_attempt_at, last_status_code, created_at, updated_at, version FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_by_status ON deliveries (merchant_id, status, created_at DESC, id DESC);
