-- Migration number: 0015 2026-12-02
-- No two merchants may claim overlapping identities (src/merchants/identities.ts). A save checks before it writes,
-- so a save that lands between another's check and its write went unseen: an identical key was still refused by the
-- primary key, an overlapping one (Alipay's seller wildcard against one of its sellers) was not, and both merchants
-- would take one notification. The rule is now also kept inside the write's own transaction: a claim that overlaps
-- another merchant's fails its statement, and the save's batch with it. The condition is `overlapOf`'s, on NEW:
-- the same key; NEW a wildcard (last part `*`) over any key under its prefix; or a wildcard over NEW's last part.
CREATE TRIGGER IF NOT EXISTS merchant_identities_no_overlap
BEFORE INSERT ON merchant_identities
WHEN EXISTS (
  SELECT 1 FROM merchant_identities AS other
  WHERE other.merchant_id != NEW.merchant_id
    AND (
      other.identity = NEW.identity
      OR (substr(NEW.identity, -2) = char(31) || '*'
          AND substr(other.identity, 1, length(NEW.identity) - 1) = substr(NEW.identity, 1, length(NEW.identity) - 1))
      OR (substr(other.identity, -2) = char(31) || '*'
          AND substr(NEW.identity, 1, length(other.identity) - 1) = substr(other.identity, 1, length(other.identity) - 1)
          AND instr(substr(NEW.identity, length(other.identity)), char(31)) = 0)
    )
)
BEGIN
  SELECT RAISE(ABORT, 'merchant identity overlaps another merchant''s claim');
END;
