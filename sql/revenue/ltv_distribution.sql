-- One row per historic-value bucket (fixed money bands in the store's currency, every
-- bucket listed even when empty): how many identified customers fall in it and what share
-- of their revenue they bring.
-- Historic value is revenue.customer_ltv.revenue: net of returns, refunded and void orders
-- excluded, walk-in orders left out. A bucket holds values >= ltv_from and < ltv_to (NULL:
-- unbounded); 'below 0' holds customers whose returns outweigh what they bought here.
WITH buckets AS (
  SELECT 1 AS bucket_order, 'below 0' AS bucket,
    CAST(NULL AS DECIMAL(18, 2)) AS ltv_from, CAST(0 AS DECIMAL(18, 2)) AS ltv_to
  UNION ALL SELECT 2, '0-25', 0, 25
  UNION ALL SELECT 3, '25-50', 25, 50
  UNION ALL SELECT 4, '50-100', 50, 100
  UNION ALL SELECT 5, '100-250', 100, 250
  UNION ALL SELECT 6, '250-500', 250, 500
  UNION ALL SELECT 7, '500-1000', 500, 1000
  UNION ALL SELECT 8, '1000-2500', 1000, 2500
  UNION ALL SELECT 9, '2500-5000', 2500, 5000
  UNION ALL SELECT 10, '5000 and more', 5000, NULL
), filled AS (
  SELECT b.bucket_order, COUNT(*) AS customers, SUM(c.revenue) AS revenue
  FROM revenue.customer_ltv AS c
  JOIN buckets AS b
    ON (b.ltv_from IS NULL OR c.revenue >= b.ltv_from)
    AND (b.ltv_to IS NULL OR c.revenue < b.ltv_to)
  GROUP BY b.bucket_order
), overall AS (
  SELECT COUNT(*) AS customers, SUM(revenue) AS revenue FROM revenue.customer_ltv
)
SELECT
  b.bucket_order,
  b.bucket,
  b.ltv_from,
  b.ltv_to,
  CAST(COALESCE(f.customers, 0) AS BIGINT) AS customers,
  CAST(COALESCE(f.customers, 0) AS DOUBLE) / NULLIF(o.customers, 0) AS customer_share,
  COALESCE(f.revenue, 0) AS revenue,
  CAST(COALESCE(f.revenue, 0) AS DOUBLE) / NULLIF(CAST(o.revenue AS DOUBLE), 0) AS revenue_share
FROM buckets AS b
CROSS JOIN overall AS o
LEFT JOIN filled AS f ON f.bucket_order = b.bucket_order
