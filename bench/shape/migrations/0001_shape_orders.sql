-- The shape Worker's D1 projection: one row per order, upserted by its queue consumer.
CREATE TABLE shape_orders (
  object_id    TEXT PRIMARY KEY,
  out_trade_no TEXT NOT NULL,
  delivered_at INTEGER NOT NULL
);
