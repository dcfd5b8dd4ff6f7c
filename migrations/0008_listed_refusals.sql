-- Migration number: 0008 2026-11-30
-- The contract lists refused notifications one by one, at least 1,000 per merchant per hour; only beyond that are
-- they counted (the 0003 rows). A refusal listed on its own is a notifications row with no order, no subject and no
-- first_received_at; the projection counts a merchant's of one hour (through notifications_by_order, whose
-- out_trade_no is then NULL) before it lists another.

-- The ids of the refusals folded into a counted row, so a queue batch delivered again counts none of them twice.
-- Keyed by merchant and time first, so pruning is a range of the key; kept a day, far past the queue's retries.
CREATE TABLE counted_refusals (
  merchant_id  TEXT NOT NULL,
  received_at  TEXT NOT NULL,
  id           TEXT NOT NULL,
  PRIMARY KEY (merchant_id, received_at, id)
) WITHOUT ROWID;
