-- Migration number: 0007 2026-11-29
-- The scale step (issue 16): the projection is written in batches by a queue consumer, into the merchant's shard (every
-- shard database has this whole schema; the control database also holds the merchants and the shard map). Fewer index
-- entries per row, since each is a row written: orders and deliveries become WITHOUT ROWID tables on their keys (no
-- separate key index), deliveries keep one secondary index (merchant, time) that every listing and recovery walks, and
-- lose the unique index on event_id and the index by status. Orders count the accepted notifications their object
-- audited, so the consumer can add the difference to the stats exactly once.

CREATE TABLE orders_new (
  merchant_id             TEXT NOT NULL,
  provider                TEXT NOT NULL,
  out_trade_no            TEXT NOT NULL,
  status                  TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'partially_refunded', 'refunded', 'closed', 'amount_mismatch')),
  expected_amount         INTEGER,
  amount                  INTEGER,
  currency                TEXT,
  transaction_id          TEXT,
  paid_at                 TEXT,
  refunded_amount         INTEGER NOT NULL DEFAULT 0,
  version                 INTEGER NOT NULL,
  updated_at              TEXT NOT NULL,
  accepted_notifications  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, provider, out_trade_no)
) WITHOUT ROWID;
INSERT INTO orders_new (merchant_id, provider, out_trade_no, status, expected_amount, amount, currency, transaction_id, paid_at,
  refunded_amount, version, updated_at)
  SELECT merchant_id, provider, out_trade_no, status, expected_amount, amount, currency, transaction_id, paid_at, refunded_amount,
    version, updated_at FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
-- What the stats already counted of each order: its accepted notifications the old projection listed (a channel is
-- named `<provider>` or `<provider>.<version>`). The consumer counts only what comes on top.
UPDATE orders SET accepted_notifications = (
  SELECT count(*) FROM notifications AS n
  WHERE n.merchant_id = orders.merchant_id AND n.out_trade_no = orders.out_trade_no AND n.verdict = 'accepted'
    AND substr(n.channel, 1, instr(n.channel || '.', '.') - 1) = orders.provider
);

CREATE TABLE deliveries_new (
  id                TEXT NOT NULL PRIMARY KEY,
  merchant_id       TEXT NOT NULL,
  provider          TEXT NOT NULL,
  out_trade_no      TEXT,
  subject_key       TEXT,
  event_id          TEXT NOT NULL,
  type              TEXT NOT NULL CHECK (type IN ('payment.succeeded', 'payment.closed', 'refund.succeeded', 'refund.failed',
                                                  'refund.closed', 'provider.notification')),
  status            TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  next_attempt_at   TEXT,
  last_status_code  INTEGER,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  version           INTEGER NOT NULL,
  reason            TEXT,
  CHECK ((out_trade_no IS NULL) <> (subject_key IS NULL))
) WITHOUT ROWID;
INSERT INTO deliveries_new (id, merchant_id, provider, out_trade_no, subject_key, event_id, type, status, attempts, next_attempt_at,
  last_status_code, created_at, updated_at, version, reason)
  SELECT id, merchant_id, provider, out_trade_no, subject_key, event_id, type, status, attempts, next_attempt_at, last_status_code,
    created_at, updated_at, version, reason FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_by_time ON deliveries (merchant_id, created_at DESC, id DESC);

-- Which shard (a D1 binding named in D1_SHARDS) holds a merchant's projection. Written once, when the merchant is
-- first saved; read by the queue consumer and the admin API. Only the control database (DB) uses it.
CREATE TABLE merchant_shards (
  merchant_id  TEXT NOT NULL PRIMARY KEY,
  shard        TEXT NOT NULL,
  assigned_at  TEXT NOT NULL
) WITHOUT ROWID;
-- Every merchant saved before shards existed stays where its history is.
INSERT INTO merchant_shards (merchant_id, shard, assigned_at) SELECT id, 'DB', updated_at FROM merchants;
