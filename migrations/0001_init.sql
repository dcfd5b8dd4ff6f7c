-- Migration number: 0001 2026-11-25
-- D1 is paygate's queryable projection (admin API). The order Durable Objects are the authority
-- for each order; they keep these tables current with idempotent upserts. Merchants live here.

CREATE TABLE merchants (
  id          TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  -- JSON: the merchant's public fields plus every secret sealed under MASTER_KEY (never plaintext).
  config      TEXT NOT NULL,
  version     INTEGER NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TABLE orders (
  merchant_id      TEXT NOT NULL,
  provider         TEXT NOT NULL CHECK (provider IN ('wechatpay', 'alipay')),
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

CREATE TABLE notifications (
  id                        TEXT PRIMARY KEY,
  merchant_id               TEXT NOT NULL,
  channel                   TEXT NOT NULL CHECK (channel IN ('wechatpay.v2', 'wechatpay.v3', 'alipay')),
  out_trade_no              TEXT,
  provider_notification_id  TEXT,
  received_at               TEXT NOT NULL,
  verdict                   TEXT NOT NULL CHECK (verdict IN ('accepted', 'duplicate', 'rejected')),
  reason                    TEXT,
  source                    TEXT NOT NULL DEFAULT 'notify' CHECK (source IN ('notify', 'query'))
);
CREATE INDEX notifications_by_order ON notifications (merchant_id, out_trade_no, received_at);

CREATE TABLE deliveries (
  id                TEXT PRIMARY KEY,
  merchant_id       TEXT NOT NULL,
  provider          TEXT NOT NULL CHECK (provider IN ('wechatpay', 'alipay')),
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
CREATE INDEX deliveries_by_status ON deliveries (merchant_id, status, created_at DESC, id DESC);
