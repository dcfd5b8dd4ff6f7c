-- Migration number: 0011 2026-12-01
-- A counted row of refusals (0008) keeps its place in the audit trail while refusals join it: `received_at`, the
-- list's order and cursor, stays the time of the refusals that made the row, and the latest one's time moves to
-- `last_received_at`. Before, `received_at` was the latest, so a row moved up the list as refusals joined it and a
-- client paging through a flood could pass it by. Only refusal rows are counted (the partial index of 0009 finds them).
ALTER TABLE notifications ADD COLUMN last_received_at TEXT;
UPDATE notifications SET last_received_at = received_at, received_at = first_received_at
  WHERE out_trade_no IS NULL AND subject_key IS NULL AND verdict = 'rejected' AND first_received_at IS NOT NULL;
