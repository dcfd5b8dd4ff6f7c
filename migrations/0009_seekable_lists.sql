-- Migration number: 0009 2026-11-30
-- Lists and counts that seek instead of walking a merchant's whole history.
-- Deliveries not (yet) delivered: the status=failed|pending lists, pending counts, recover. Most deliveries are first
-- projected already delivered, so they never enter this index.
CREATE INDEX deliveries_unsettled ON deliveries (merchant_id, status, created_at DESC, id DESC) WHERE status <> 'delivered';
-- An order's entries, in list order; refusals before an order apart (no subject notification in their range).
DROP INDEX notifications_by_order;
CREATE INDEX notifications_by_order ON notifications (merchant_id, out_trade_no, received_at DESC, id DESC) WHERE out_trade_no IS NOT NULL;
CREATE INDEX notifications_refusals ON notifications (merchant_id, received_at) WHERE out_trade_no IS NULL AND subject_key IS NULL AND verdict = 'rejected';
