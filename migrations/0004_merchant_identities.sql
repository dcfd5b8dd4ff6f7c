-- Migration number: 0004 2026-11-29
-- The provider identities each merchant claims (WeChat Pay mchid + sub-merchant, Alipay app_id + third-party
-- app + seller), one row per key, so no two merchants can be saved with an identity that one
-- notification would match at both. Keys are written by the gateway (src/merchants/identities.ts), which
-- also indexes merchants saved before this table existed, on the next merchant save.
CREATE TABLE merchant_identities (
  identity     TEXT PRIMARY KEY,
  merchant_id  TEXT NOT NULL
);
CREATE INDEX merchant_identities_by_merchant ON merchant_identities (merchant_id);
