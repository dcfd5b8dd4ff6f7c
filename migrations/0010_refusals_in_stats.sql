-- Migration number: 0010 2026-11-30
-- Refusals before any order are now counted into merchant_stats when the projection records them (in the series too,
-- and kept the 90 days the counters are, not the 30 days their audit rows are). Those already recorded are counted
-- here once, each row at its own minute (a counted row at its latest notification's).
INSERT INTO merchant_stats (merchant_id, minute, rejected, rejected_reasons)
SELECT merchant_id, minute, sum(n), json_group_object(reason, n)
FROM (
  SELECT merchant_id, CAST(unixepoch(received_at) / 60 AS INTEGER) AS minute, coalesce(reason, 'unknown') AS reason, sum(count) AS n
  FROM notifications
  WHERE out_trade_no IS NULL AND subject_key IS NULL AND verdict = 'rejected'
  GROUP BY 1, 2, 3
)
GROUP BY merchant_id, minute
ON CONFLICT (merchant_id, minute) DO UPDATE SET
  rejected = merchant_stats.rejected + excluded.rejected,
  rejected_reasons = (
    SELECT json_group_object(key, total) FROM (
      SELECT key, sum(value) AS total FROM (
        SELECT key, value FROM json_each(merchant_stats.rejected_reasons)
        UNION ALL SELECT key, value FROM json_each(excluded.rejected_reasons)
      ) GROUP BY key
    )
  );
