-- The subject objects (provider notifications about no order) of a merchant, each once, for the retention walk
-- (POST /admin/merchants/{merchantId}/retention). Partial: an order's delivery writes no entry in it.
CREATE INDEX deliveries_by_subject ON deliveries (merchant_id, provider, subject_key) WHERE subject_key IS NOT NULL;
