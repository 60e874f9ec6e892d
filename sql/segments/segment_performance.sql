-- One row per month end and primary segment of segments.segment_history: its customers at
-- the month end and what they did in the following month, up to the as_of day: net revenue
-- (returns deducted), purchase orders (orders with a non-return line) and retention, the
-- share of the segment's customers with a purchase in that month.
-- next_month_end is the last day the figures cover: the next month's last day, cut at the
-- as_of day (so the latest month's figures may be partial). When the as_of day is itself
-- the month end nothing has followed yet, and revenue, orders and retention are NULL.
WITH bounds AS (
  SELECT CAST(timezone($store_tz, CAST($as_of AS TIMESTAMPTZ)) AS DATE) AS as_of_day
), windows AS (
  SELECT
    h.month_end,
    LEAST(last_day(CAST(h.month_end + INTERVAL 1 DAY AS DATE)), b.as_of_day) AS next_month_end
  FROM (SELECT DISTINCT month_end FROM segments.segment_history) AS h
  CROSS JOIN bounds AS b
), orders AS (
  SELECT * FROM revenue.customer_orders
), activity AS (
  SELECT
    w.month_end,
    o.customer_id,
    SUM(o.revenue) AS revenue,
    COUNT(CASE WHEN o.is_purchase THEN 1 END) AS orders
  FROM windows AS w
  JOIN orders AS o ON o.sale_date > w.month_end AND o.sale_date <= w.next_month_end
  GROUP BY w.month_end, o.customer_id
)
SELECT
  h.month_end,
  h.primary_segment AS segment,
  w.next_month_end,
  CAST(COUNT(*) AS BIGINT) AS customers,
  CASE WHEN w.next_month_end > h.month_end
    THEN CAST(COALESCE(SUM(a.revenue), 0) AS DOUBLE)
  END AS revenue,
  CASE WHEN w.next_month_end > h.month_end
    THEN CAST(COALESCE(SUM(a.orders), 0) AS BIGINT)
  END AS orders,
  CASE WHEN w.next_month_end > h.month_end
    THEN CAST(COUNT(CASE WHEN a.orders > 0 THEN 1 END) AS DOUBLE) / COUNT(*)
  END AS retention
FROM segments.segment_history AS h
JOIN windows AS w ON w.month_end = h.month_end
LEFT JOIN activity AS a ON a.month_end = h.month_end AND a.customer_id = h.customer_id
GROUP BY h.month_end, h.primary_segment, w.next_month_end
