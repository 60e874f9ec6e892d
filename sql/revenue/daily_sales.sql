-- One row per store-local day (first sale day .. as_of day) and channel, zeros included:
-- every channel seen in the history gets a row for every day, so 7/30/90-day trends have
-- no gaps.
-- Built on ingest.sales_lines: refunded and void orders count nowhere; a return counts on
-- the day it happens (negative revenue and units). units is net of returns; returned_units
-- is the positive number of units brought back. orders counts orders with at least one
-- non-return line (an order made only of returns is not an order).
-- gross_margin = revenue - cost over the lines whose cost is known (NULL on a day with sales
-- but no known cost); revenue_with_cost is its base, so margin % = gross_margin /
-- revenue_with_cost; cost_coverage = share of the day's lines with a known cost.
-- A missing channel is reported as 'unknown'.
WITH lines AS (
  SELECT
    sale_date,
    COALESCE(channel, 'unknown') AS channel,
    order_id,
    quantity,
    revenue,
    cost,
    is_return
  FROM ingest.sales_lines
), totals AS (
  SELECT
    sale_date,
    channel,
    SUM(revenue) AS revenue,
    COUNT(DISTINCT CASE WHEN NOT is_return THEN order_id END) AS orders,
    SUM(quantity) AS units,
    SUM(CASE WHEN is_return THEN -quantity ELSE 0 END) AS returned_units,
    SUM(revenue - cost) AS gross_margin,
    SUM(CASE WHEN cost IS NOT NULL THEN revenue END) AS revenue_with_cost,
    COUNT(cost) AS lines_with_cost,
    COUNT(*) AS lines
  FROM lines
  GROUP BY sale_date, channel
), channels AS (
  SELECT DISTINCT channel FROM lines
)
SELECT
  c.day AS sale_date,
  ch.channel,
  COALESCE(t.revenue, 0) AS revenue,
  CAST(COALESCE(t.orders, 0) AS BIGINT) AS orders,
  CAST(COALESCE(t.units, 0) AS BIGINT) AS units,
  CAST(COALESCE(t.returned_units, 0) AS BIGINT) AS returned_units,
  -- A day without sales has a known margin of zero; a day whose costs are all unknown has none.
  CASE WHEN t.sale_date IS NULL THEN 0 ELSE t.gross_margin END AS gross_margin,
  COALESCE(t.revenue_with_cost, 0) AS revenue_with_cost,
  CAST(t.lines_with_cost AS DOUBLE) / t.lines AS cost_coverage
FROM revenue.calendar AS c
CROSS JOIN channels AS ch
LEFT JOIN totals AS t ON t.sale_date = c.day AND t.channel = ch.channel
WHERE NOT c.after_as_of
