-- "Bought X, also bought Y" per customer: for every product neighbouring something the
-- customer bought up to as_of (recommendations.item_neighbors), the summed similarity to
-- their purchases. v1 ranks by it; v2 uses it as one signal among many.
-- Bounded so that a million customers fit on a small machine (per customer at most
-- 20 x 20 pairs, instead of their whole history x 50):
-- * only customers who bought something in the last 365 days; lapsed ones get the
--   cold-start best-sellers at request time (their old tastes predict little);
-- * only their 20 most recently bought distinct products, each with its 20 nearest
--   neighbours (the tail adds little similarity but most of the rows);
-- * products they own are dropped here unless repeat-purchase (both readers would drop
--   them anyway), and only the best 60 per customer are kept (v1 shows 20, v2 pools 40).
WITH bought AS (
  SELECT customer_id, product_id, MAX(ordered_at) AS last_bought
  FROM ingest.sales_lines
  WHERE customer_id IS NOT NULL AND NOT is_return AND ordered_at <= $as_of
  GROUP BY customer_id, product_id
), recent AS (
  SELECT customer_id, product_id
  FROM bought
  QUALIFY MAX(last_bought) OVER (PARTITION BY customer_id) > $as_of - INTERVAL 365 DAY
    AND ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY last_bought DESC, product_id)
      <= 20
), summed AS (
  SELECT r.customer_id, n.neighbor_id AS product_id, SUM(n.similarity) AS similarity
  FROM recent AS r
  JOIN recommendations.item_neighbors AS n ON n.product_id = r.product_id AND n.rank <= 20
  GROUP BY r.customer_id, n.neighbor_id
)
SELECT s.customer_id, s.product_id, s.similarity
FROM summed AS s
LEFT JOIN bought AS o ON o.customer_id = s.customer_id AND o.product_id = s.product_id
LEFT JOIN recommendations.repeat_products AS p ON p.product_id = s.product_id
WHERE o.product_id IS NULL OR COALESCE(p.is_repeat, FALSE)
QUALIFY ROW_NUMBER() OVER (PARTITION BY s.customer_id ORDER BY s.similarity DESC, s.product_id)
  <= 60
