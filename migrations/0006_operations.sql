-- Migration number: 0006 2026-11-29
-- Operating the gateway (contract part 2): per-merchant counters for the stats endpoint, why a delivery failed, and
-- the indexes behind the merchant list and the delivery lists filtered by time.

-- One row per merchant and minute, upserted by the order objects' projection batches (never a write per
-- notification of its own). `minute` counts minutes since the Unix epoch (UTC). `latency_<i>` counts attempts whose
-- duration fell in bucket i of LATENCY_BUCKETS_MS (src/storage/stats.ts): ≤25, 50, 100, 250, 500, 1000, 2500, 5000,
-- 10000, 15000, 30000 ms, and longer.
CREATE TABLE merchant_stats (
  merchant_id       TEXT NOT NULL,
  minute            INTEGER NOT NULL,
  accepted          INTEGER NOT NULL DEFAULT 0,
  duplicate         INTEGER NOT NULL DEFAULT 0,
  rejected          INTEGER NOT NULL DEFAULT 0,
  -- JSON object: rejection reason → count.
  rejected_reasons  TEXT NOT NULL DEFAULT '{}',
  delivered         INTEGER NOT NULL DEFAULT 0,
  failed            INTEGER NOT NULL DEFAULT 0,
  latency_0  INTEGER NOT NULL DEFAULT 0,
  latency_1  INTEGER NOT NULL DEFAULT 0,
  latency_2  INTEGER NOT NULL DEFAULT 0,
  latency_3  INTEGER NOT NULL DEFAULT 0,
  latency_4  INTEGER NOT NULL DEFAULT 0,
  latency_5  INTEGER NOT NULL DEFAULT 0,
  latency_6  INTEGER NOT NULL DEFAULT 0,
  latency_7  INTEGER NOT NULL DEFAULT 0,
  latency_8  INTEGER NOT NULL DEFAULT 0,
  latency_9  INTEGER NOT NULL DEFAULT 0,
  latency_10 INTEGER NOT NULL DEFAULT 0,
  latency_11 INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (merchant_id, minute)
) WITHOUT ROWID;

-- endpoint_disabled, endpoint_gone, retries_exhausted or url_refused for a failed delivery; null otherwise.
ALTER TABLE deliveries ADD COLUMN reason TEXT;
-- Lists across statuses, newest first, and their `since` / `until` filters.
CREATE INDEX deliveries_by_time ON deliveries (merchant_id, created_at DESC, id DESC);
-- GET /admin/merchants, newest first.
CREATE INDEX merchants_by_created ON merchants (created_at DESC, id DESC);
