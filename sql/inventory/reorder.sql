-- One row per product to reorder now, by a first rule (a forecast-driven list replaces it
-- later): stock on hand + on order is below the demand expected until a new order would
-- arrive and cover the next review, i.e. average daily net units of the last 28 days
-- (inventory.turnover: returns deducted, refunded/void excluded) x (lead_time_days + a
-- 14-day review period).
-- Left out: placeholder products, products never counted (stock unknown) and products with
-- no net units sold in the last 90 days.
-- suggested_quantity = that need - on hand - on order, rounded up to whole units.
-- expected_stockout_date = as_of day + on hand / daily rate (whole days, rounded down).
-- revenue_at_risk = units the stock cannot cover before an order placed today arrives
-- (daily rate x lead time - on hand - on order, at least 0) x average net revenue per unit
-- sold in the last 28 days.
-- The comparisons below multiply through by 28 so that whole units are compared exactly.
WITH as_of AS (
  SELECT MAX(as_of_day) AS as_of_day FROM revenue.calendar
), candidates AS (
  SELECT
    t.product_id,
    p.name,
    t.category,
    p.supplier,
    p.lead_time_days,
    14 AS review_days,
    t.on_hand,
    t.on_order,
    t.units_sold_28d,
    t.avg_daily_units_28d,
    t.revenue_28d,
    t.units_sold_28d * (p.lead_time_days + 14) AS need_x28,
    t.units_sold_28d * p.lead_time_days AS lead_need_x28,
    28 * (t.on_hand + t.on_order) AS stock_x28
  FROM inventory.turnover AS t
  JOIN ingest.products AS p ON p.product_id = t.product_id
  WHERE t.level = 'product'
    AND NOT COALESCE(p.is_placeholder, FALSE)
    AND t.on_hand IS NOT NULL
    AND t.units_sold_90d > 0
)
SELECT
  c.product_id,
  c.name,
  c.category,
  c.supplier,
  c.on_hand,
  c.on_order,
  c.lead_time_days,
  c.review_days,
  c.avg_daily_units_28d,
  c.need_x28 / 28.0 AS units_needed,
  CAST(CEIL((c.need_x28 - c.stock_x28) / 28.0) AS BIGINT) AS suggested_quantity,
  CAST(
    a.as_of_day
    + INTERVAL (CAST(FLOOR(c.on_hand * 28.0 / NULLIF(c.units_sold_28d, 0)) AS BIGINT)) DAY
    AS DATE
  ) AS expected_stockout_date,
  CAST(
    GREATEST(c.lead_need_x28 - c.stock_x28, 0) / 28.0
      * c.revenue_28d / NULLIF(c.units_sold_28d, 0)
    AS DECIMAL(18, 2)
  ) AS revenue_at_risk
FROM candidates AS c
CROSS JOIN as_of AS a
WHERE c.stock_x28 < c.need_x28
