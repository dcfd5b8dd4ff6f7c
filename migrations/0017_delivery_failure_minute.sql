-- Migration number: 0017 2026-12-03
-- The minute whose stats counter holds a delivery's failure (minutes since the Unix epoch, UTC), while it is failed.
-- When a failed delivery is recovered (pending again, then delivered or failed anew), the projection takes that
-- failure back from that minute, so the stats' `failed` are the failures of the window that are still failed, in the
-- totals and the series alike. NULL for a delivery not failed, and for one that failed before this column (its
-- failure stays counted: nothing says in which minute it was).
ALTER TABLE deliveries ADD COLUMN failed_minute INTEGER;
