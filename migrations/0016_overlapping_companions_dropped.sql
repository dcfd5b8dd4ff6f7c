-- Migration number: 0016 2026-12-03
-- 0014 gave each stored Alipay claim (app, -, seller) its companion (app, app, seller) and left out only one that
-- another merchant held exactly. A companion overlapping another merchant's claim without being equal to it (a seller
-- wildcard against one of that app's sellers, either way round) went in, and 0015's rule then refused every save of
-- either merchant. Those companions go: the other merchant saves as before, and the one without authAppId is refused on
-- its next save, naming the other, as 0014 meant. The overlap condition is 0015's, with the companion as NEW.
DELETE FROM merchant_identities
WHERE identity IN (
  SELECT companion.identity
  FROM (
    SELECT identity, merchant_id, app, substr(tail, 1, instr(tail, char(31)) - 1) AS auth, substr(tail, instr(tail, char(31))) AS seller
    FROM (
      SELECT identity, merchant_id,
             substr(rest, 1, instr(rest, char(31)) - 1) AS app,
             substr(rest, instr(rest, char(31)) + 1) AS tail
      FROM (SELECT identity, merchant_id, substr(identity, 8) AS rest FROM merchant_identities
            WHERE substr(identity, 1, 7) = 'alipay' || char(31))
    )
  ) AS companion
  WHERE companion.auth = companion.app
    -- A companion: the same merchant also claims (app, -, seller).
    AND EXISTS (
      SELECT 1 FROM merchant_identities AS own
      WHERE own.merchant_id = companion.merchant_id
        AND own.identity = 'alipay' || char(31) || companion.app || char(31) || '-' || companion.seller
    )
    AND EXISTS (
      SELECT 1 FROM merchant_identities AS other
      WHERE other.merchant_id != companion.merchant_id
        AND (
          other.identity = companion.identity
          OR (substr(companion.identity, -2) = char(31) || '*'
              AND substr(other.identity, 1, length(companion.identity) - 1) = substr(companion.identity, 1, length(companion.identity) - 1))
          OR (substr(other.identity, -2) = char(31) || '*'
              AND substr(companion.identity, 1, length(other.identity) - 1) = substr(other.identity, 1, length(other.identity) - 1)
              AND instr(substr(companion.identity, length(other.identity)), char(31)) = 0)
        )
    )
);
