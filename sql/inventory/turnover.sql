-- One row per product (level = 'product') that sold in the last 90 days or has a stock
-- count, plus one row per category (level = 'category', product_id NULL) summing them.
-- Windows are store-local days up to and including the as_of day. Sales come from
-- revenue.product_daily_sales: returns deducted on their own day (a return lowers COGS and
-- units), refunded and void orders excluded; COGS covers lines with a known cost only.
-- Average inventory: per location, the mean of the last count of each day over the 90-day
-- window, summed over locations, valued at the product's current unit_cost. With counts on
-- fewer than 7 days the history is too thin and the current stock stands in
-- (inventory_basis says which). turnover_annualized = COGS / average inventory value
-- * 365 / 90. days_of_supply = on hand / average daily net units over the last 28 days.
-- on_hand / on_order come from ingest.current_stock (NULL when never counted).
WITH as_of AS (
  SELECT MAX(as_of_day) AS as_of_day FROM revenue.calendar
), sales AS (
  SELECT
    s.product_id,
    SUM(s.cost) AS cogs_90d,
    SUM(s.units) AS units_sold_90d,
    SUM(CASE WHEN date_diff('day', s.sale_date, a.as_of_day) < 28 THEN s.units ELSE 0 END)
      AS units_sold_28d,
    SUM(CASE WHEN date_diff('day', s.sale_date, a.as_of_day) < 28 THEN s.revenue ELSE 0 END)
      AS revenue_28d
  FROM revenue.product_daily_sales AS s
  CROSS JOIN as_of AS a
  WHERE date_diff('day', s.sale_date, a.as_of_day) < 90
  GROUP BY s.product_id
), counts AS (
  SELECT
    i.product_id,
    i.location_id,
    i.on_hand,
    i.as_of,
    CAST(timezone($store_tz, i.as_of) AS DATE) AS count_day
  FROM ingest.inventory AS i
  WHERE i.as_of <= $as_of
), day_counts AS (
  SELECT
    c.product_id,
    c.location_id,
    c.count_day,
    c.on_hand,
    row_number() OVER (
      PARTITION BY c.product_id, c.location_id, c.count_day ORDER BY c.as_of DESC
    ) AS recency
  FROM counts AS c
  CROSS JOIN as_of AS a
  WHERE date_diff('day', c.count_day, a.as_of_day) < 90
), per_location AS (
  SELECT product_id, location_id, AVG(on_hand) AS avg_on_hand, COUNT(*) AS count_days
  FROM day_counts
  WHERE recency = 1
  GROUP BY product_id, location_id
), history AS (
  SELECT product_id, SUM(avg_on_hand) AS avg_on_hand, MAX(count_days) AS count_days
  FROM per_location
  GROUP BY product_id
), products AS (
  SELECT
    p.product_id,
    p.category,
    p.unit_cost,
    st.on_hand,
    st.on_order,
    COALESCE(h.count_days, 0) AS count_days,
    CASE WHEN h.count_days >= 7 THEN h.avg_on_hand ELSE st.on_hand END AS avg_inventory_units,
    CASE WHEN h.count_days >= 7 THEN 'daily counts' ELSE 'current stock' END
      AS inventory_basis,
    s.cogs_90d,
    COALESCE(s.units_sold_90d, 0) AS units_sold_90d,
    COALESCE(s.units_sold_28d, 0) AS units_sold_28d,
    COALESCE(s.revenue_28d, 0) AS revenue_28d
  FROM ingest.products AS p
  LEFT JOIN sales AS s ON s.product_id = p.product_id
  LEFT JOIN ingest.current_stock AS st ON st.product_id = p.product_id
  LEFT JOIN history AS h ON h.product_id = p.product_id
  WHERE s.product_id IS NOT NULL OR st.product_id IS NOT NULL
), levels AS (
  SELECT
    'product' AS level,
    product_id,
    category,
    cogs_90d,
    CAST(avg_inventory_units AS DOUBLE) AS avg_inventory_units,
    CAST(avg_inventory_units * unit_cost AS DOUBLE) AS avg_inventory_value,
    inventory_basis,
    count_days,
    units_sold_90d,
    units_sold_28d,
    revenue_28d,
    on_hand,
    on_order
  FROM products
  UNION ALL
  SELECT
    'category',
    NULL,
    category,
    SUM(cogs_90d),
    SUM(CAST(avg_inventory_units AS DOUBLE)),
    SUM(CAST(avg_inventory_units * unit_cost AS DOUBLE)),
    CASE WHEN MIN(inventory_basis) = MAX(inventory_basis) THEN MIN(inventory_basis)
      ELSE 'mixed' END,
    MAX(count_days),
    SUM(units_sold_90d),
    SUM(units_sold_28d),
    SUM(revenue_28d),
    SUM(on_hand),
    SUM(on_order)
  FROM products
  GROUP BY category
)
SELECT
  level,
  product_id,
  category,
  cogs_90d,
  avg_inventory_units,
  avg_inventory_value,
  inventory_basis,
  CAST(count_days AS BIGINT) AS count_days,
  CASE WHEN avg_inventory_value > 0
    THEN CAST(cogs_90d AS DOUBLE) / avg_inventory_value * 365 / 90 END AS turnover_annualized,
  CAST(units_sold_90d AS BIGINT) AS units_sold_90d,
  CAST(units_sold_28d AS BIGINT) AS units_sold_28d,
  revenue_28d,
  units_sold_28d / 28.0 AS avg_daily_units_28d,
  CASE WHEN units_sold_28d > 0 THEN on_hand / (units_sold_28d / 28.0) END AS days_of_supply,
  CAST(on_hand AS BIGINT) AS on_hand,
  CAST(on_order AS BIGINT) AS on_order
FROM levels
