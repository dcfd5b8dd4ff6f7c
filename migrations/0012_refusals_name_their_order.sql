-- Migration number: 0012 2026-12-01
-- A notification refused after its signature proved it the provider's (the merchant's ids do not match it, an event
-- the gateway does not map, an amount it cannot read) keeps the order number it names, so the order's audit trail
-- lists it; one refused before that names none. A refusal before any object is then no longer told apart by its NULL
-- out_trade_no: `refused_before_object` (1, else NULL) marks those rows, listed or counted, set here for the rows
-- already stored, and their partial index (0009) follows it. Upgrade with the projection paused (README, "Migrate,
-- then deploy"): a refusal row an older consumer wrote after this would not be marked.
ALTER TABLE notifications ADD COLUMN refused_before_object INTEGER CHECK (refused_before_object = 1);
UPDATE notifications SET refused_before_object = 1 WHERE out_trade_no IS NULL AND subject_key IS NULL AND verdict = 'rejected';
DROP INDEX notifications_refusals;
CREATE INDEX notifications_refusals ON notifications (merchant_id, received_at) WHERE refused_before_object = 1;
