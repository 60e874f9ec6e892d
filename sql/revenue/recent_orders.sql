-- One row per order placed in the last 8 store-local days up to as_of (today and the same
-- weekday a week ago, with margin): "today so far" is compared with last week at the
-- same time of day, so the API needs order times, not daily totals.
-- Lines of refunded and void orders are already excluded by ingest.sales_lines; an
-- order made only of returns counts with negative revenue and is not counted as an order.
SELECT
  order_id,
  MIN(ordered_at) AS ordered_at,
  MIN(sale_date) AS sale_date,
  MIN(channel) AS channel,
  SUM(revenue) AS revenue,
  SUM(quantity) AS units,
  SUM(cost) AS cost,
  BOOL_AND(is_return) AS returns_only
FROM ingest.sales_lines
WHERE sale_date >= CAST(timezone($store_tz, CAST($as_of AS TIMESTAMPTZ)) AS DATE) - INTERVAL 8 DAY
GROUP BY order_id
