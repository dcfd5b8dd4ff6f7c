-- Migration number: 0003 2026-11-29
-- Notifications refused before they reach an order (bad signature, wrong merchant ids, unsigned messages)
-- are counted, not stored one row each: one row per merchant, channel, reason and ten minutes, whose
-- `count` grows and whose `received_at` is the latest. A flood of forgeries is then one line in the audit
-- trail instead of burying the genuine entries. `first_received_at` is set on those counted rows only.
ALTER TABLE notifications ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE notifications ADD COLUMN first_received_at TEXT;
-- The merchant-wide audit trail, newest first, is read page by page with a (received_at, id) cursor.
CREATE INDEX notifications_by_time ON notifications (merchant_id, received_at DESC, id DESC);
