-- Cold-start recommendations: the 100 in-stock products most customers bought in the 30
-- days up to as_of. purchase_rate (buyers over customers who bought anything in those
-- days) is the chance a shopper buys the product within a month: the confidence a
-- recommendation to an unknown customer carries.
WITH recent AS (
  SELECT COALESCE(customer_id, order_id) AS buyer, product_id
  FROM ingest.sales_lines
  WHERE NOT is_return AND ordered_at <= $as_of
    AND ordered_at > $as_of - INTERVAL 30 DAY
), active AS (
  SELECT CAST(COUNT(DISTINCT buyer) AS DOUBLE) AS buyers FROM recent
), counted AS (
  SELECT r.product_id, COUNT(DISTINCT r.buyer) AS buyers
  FROM recent AS r
  JOIN recommendations.in_stock AS s ON s.product_id = r.product_id AND s.in_stock
  GROUP BY r.product_id
), ranked AS (
  SELECT
    c.product_id,
    s.category,
    c.buyers,
    c.buyers / a.buyers AS purchase_rate,
    ROW_NUMBER() OVER (ORDER BY c.buyers DESC, c.product_id) AS rank
  FROM counted AS c
  CROSS JOIN active AS a
  JOIN recommendations.in_stock AS s ON s.product_id = c.product_id
)
SELECT
  product_id,
  category,
  CAST(buyers AS BIGINT) AS buyers,
  CAST(purchase_rate AS DOUBLE) AS purchase_rate,
  CAST(rank AS BIGINT) AS rank
FROM ranked
WHERE rank <= 100
