-- Repeat-purchase products, decided from the data up to as_of: the share of a product's
-- buyers who bought it in more than one order.
-- A product counts as repeat-purchase when at least 10 customers bought it and its repeat
-- share is at least twice the median product's: durable goods are bought again only by
-- a trickle (gifts, replacements), consumables by a sizeable share. Recommenders may
-- suggest a repeat-purchase product to a customer who already bought it, nothing else.
WITH bought AS (
  SELECT product_id, customer_id, COUNT(DISTINCT order_id) AS orders
  FROM ingest.sales_lines
  WHERE customer_id IS NOT NULL AND NOT is_return AND ordered_at <= $as_of
  GROUP BY product_id, customer_id
), shares AS (
  SELECT
    product_id,
    COUNT(*) AS buyers,
    SUM(CASE WHEN orders > 1 THEN 1 ELSE 0 END) AS repeat_buyers,
    SUM(CASE WHEN orders > 1 THEN 1.0 ELSE 0.0 END) / COUNT(*) AS repeat_share
  FROM bought
  GROUP BY product_id
), typical AS (
  SELECT MEDIAN(repeat_share) AS median_share FROM shares
)
SELECT
  s.product_id,
  CAST(s.buyers AS BIGINT) AS buyers,
  CAST(s.repeat_buyers AS BIGINT) AS repeat_buyers,
  CAST(s.repeat_share AS DOUBLE) AS repeat_share,
  s.buyers >= 10 AND s.repeat_share >= 2 * t.median_share AND s.repeat_share > 0 AS is_repeat
FROM shares AS s
CROSS JOIN typical AS t
