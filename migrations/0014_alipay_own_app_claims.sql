-- An Alipay merchant without authAppId takes notifies whose auth_app_id is its own app_id, so it now claims that
-- identity too (app, app, seller) beside (app, -, seller): a merchant listing the app as authAppId overlaps it
-- (409). The claims stored before are given their companion. One another merchant already holds is left to it (the
-- two were saved before this check): the next save of the one without authAppId is refused with 409 naming the
-- other.
INSERT OR IGNORE INTO merchant_identities (identity, merchant_id)
SELECT 'alipay' || char(31) || app || char(31) || app || substr(tail, 2), merchant_id
FROM (
  SELECT merchant_id,
         substr(rest, 1, instr(rest, char(31)) - 1) AS app,
         substr(rest, instr(rest, char(31)) + 1) AS tail
  FROM (SELECT merchant_id, substr(identity, 8) AS rest FROM merchant_identities WHERE substr(identity, 1, 7) = 'alipay' || char(31))
)
WHERE substr(tail, 1, 2) = '-' || char(31);
