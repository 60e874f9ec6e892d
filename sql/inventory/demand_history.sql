-- One row per product and store-local day, from the product's first sale or stock count to
-- the as_of day: what the demand forecast and the stock alerts learn from.
-- units is what customers took that day and revenue what they paid for it (returns are not
-- deducted: a return says nothing about the day's demand; refunded and void orders count
-- nowhere, as in ingest.sales_lines). on_hand / on_order are the day's last count per
-- location, carried forward over days without one and summed over locations (NULL until
-- the first count); counted says whether any location was counted that day.
-- out_of_stock marks censored demand: the day ended with nothing on the shelf, so its
-- sales show what was there, not what was wanted. A zero carried forward from an earlier
-- count only counts when nothing sold that day (a sale proves stock came in).
-- Placeholder products (ids seen only in order lines) are left out.
WITH sales AS (
  SELECT product_id, sale_date AS day, SUM(quantity) AS units, SUM(revenue) AS revenue
  FROM ingest.sales_lines
  WHERE quantity > 0
  GROUP BY product_id, sale_date
), location_counts AS (
  SELECT
    product_id,
    COALESCE(location_id, '') AS location_id,
    CAST(timezone($store_tz, as_of) AS DATE) AS day,
    on_hand,
    on_order,
    row_number() OVER (
      PARTITION BY product_id, COALESCE(location_id, ''), CAST(timezone($store_tz, as_of) AS DATE)
      ORDER BY as_of DESC
    ) AS recency
  FROM ingest.inventory
  WHERE as_of <= $as_of
), first_days AS (
  SELECT seen.product_id, MIN(seen.day) AS first_day
  FROM (
    SELECT product_id, day FROM sales
    UNION ALL
    SELECT product_id, day FROM location_counts
  ) AS seen
  JOIN ingest.products AS p ON p.product_id = seen.product_id
  WHERE NOT COALESCE(p.is_placeholder, FALSE)
  GROUP BY seen.product_id
), spine AS (
  SELECT f.product_id, c.day
  FROM first_days AS f
  JOIN revenue.calendar AS c ON c.day >= f.first_day AND NOT c.after_as_of
), location_days AS (
  SELECT
    s.product_id,
    s.day,
    LAST_VALUE(c.on_hand IGNORE NULLS) OVER (
      PARTITION BY s.product_id, l.location_id ORDER BY s.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS on_hand,
    LAST_VALUE(c.on_order IGNORE NULLS) OVER (
      PARTITION BY s.product_id, l.location_id ORDER BY s.day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS on_order,
    c.on_hand IS NOT NULL AS counted
  FROM spine AS s
  JOIN (SELECT DISTINCT product_id, location_id FROM location_counts) AS l
    ON l.product_id = s.product_id
  LEFT JOIN location_counts AS c
    ON c.product_id = s.product_id AND c.location_id = l.location_id AND c.day = s.day
    AND c.recency = 1
), stock AS (
  SELECT
    product_id,
    day,
    SUM(on_hand) AS on_hand,
    SUM(on_order) AS on_order,
    BOOL_OR(counted) AS counted
  FROM location_days
  GROUP BY product_id, day
)
SELECT
  s.product_id,
  s.day,
  CAST(COALESCE(sa.units, 0) AS BIGINT) AS units,
  COALESCE(sa.revenue, 0) AS revenue,
  CAST(st.on_hand AS BIGINT) AS on_hand,
  CAST(st.on_order AS BIGINT) AS on_order,
  COALESCE(st.counted, FALSE) AS counted,
  COALESCE(st.on_hand <= 0 AND (st.counted OR COALESCE(sa.units, 0) = 0), FALSE)
    AS out_of_stock
FROM spine AS s
LEFT JOIN sales AS sa ON sa.product_id = s.product_id AND sa.day = s.day
LEFT JOIN stock AS st ON st.product_id = s.product_id AND st.day = s.day
