-- Cross-sell association rules "antecedent -> consequent" from baskets (completed orders
-- up to as_of): support = share of orders holding both, confidence = share of the
-- antecedent's orders that also hold the consequent, lift = confidence over the
-- consequent's own order share.
-- Minimums keep only rules worth acting on: both products together in at least 5 orders,
-- confidence of at least 2 % and lift of at least 2 (twice as likely as by chance).
WITH baskets AS (
  SELECT DISTINCT order_id, product_id
  FROM ingest.sales_lines
  WHERE NOT is_return AND ordered_at <= $as_of
), total AS (
  SELECT CAST(COUNT(DISTINCT order_id) AS DOUBLE) AS orders FROM baskets
), items AS (
  SELECT product_id, COUNT(*) AS orders FROM baskets GROUP BY product_id
), pairs AS (
  SELECT a.product_id AS antecedent, b.product_id AS consequent, COUNT(*) AS orders
  FROM baskets AS a
  JOIN baskets AS b ON b.order_id = a.order_id AND b.product_id <> a.product_id
  GROUP BY a.product_id, b.product_id
  HAVING COUNT(*) >= 5
), rules AS (
  SELECT
    p.antecedent,
    p.consequent,
    p.orders,
    p.orders / t.orders AS support,
    CAST(p.orders AS DOUBLE) / a.orders AS confidence,
    (CAST(p.orders AS DOUBLE) / a.orders) / (c.orders / t.orders) AS lift
  FROM pairs AS p
  CROSS JOIN total AS t
  JOIN items AS a ON a.product_id = p.antecedent
  JOIN items AS c ON c.product_id = p.consequent
)
SELECT
  antecedent,
  consequent,
  CAST(orders AS BIGINT) AS orders,
  CAST(support AS DOUBLE) AS support,
  CAST(confidence AS DOUBLE) AS confidence,
  CAST(lift AS DOUBLE) AS lift
FROM rules
WHERE confidence >= 0.02 AND lift >= 2
