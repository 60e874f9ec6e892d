-- One row per product and window (window_days 30 or 90: the last N store-local days up to
-- and including the as_of day) for products sold or returned in that window, all channels.
-- From revenue.product_daily_sales: returns deducted on their own day, refunded and void
-- orders excluded, units net of returns.
-- gross_margin covers the lines with a known cost (NULL when no cost is known);
-- gross_margin_pct = 100 * gross_margin / revenue of those lines, NULL when no cost is known
-- or that revenue is not positive. Ranks (1 = best, ties share a rank) are per window;
-- products whose figure is NULL get no rank.
WITH windows AS (
  SELECT 30 AS window_days
  UNION ALL
  SELECT 90
), as_of AS (
  SELECT MAX(as_of_day) AS as_of_day FROM revenue.calendar
), totals AS (
  SELECT
    w.window_days,
    s.product_id,
    MIN(s.category) AS category,
    SUM(s.revenue) AS revenue,
    SUM(s.units) AS units,
    SUM(s.returned_units) AS returned_units,
    SUM(s.gross_margin) AS gross_margin,
    SUM(s.revenue_with_cost) AS revenue_with_cost,
    SUM(s.lines_without_cost) AS lines_without_cost
  FROM revenue.product_daily_sales AS s
  CROSS JOIN as_of AS a
  CROSS JOIN windows AS w
  WHERE date_diff('day', s.sale_date, a.as_of_day) < w.window_days
  GROUP BY w.window_days, s.product_id
), measured AS (
  SELECT
    t.*,
    CASE
      WHEN t.revenue_with_cost > 0
        THEN 100 * CAST(t.gross_margin AS DOUBLE) / CAST(t.revenue_with_cost AS DOUBLE)
    END AS gross_margin_pct
  FROM totals AS t
)
SELECT
  m.window_days,
  m.product_id,
  p.name,
  m.category,
  m.revenue,
  CAST(m.units AS BIGINT) AS units,
  CAST(m.returned_units AS BIGINT) AS returned_units,
  m.gross_margin,
  m.gross_margin_pct,
  CAST(m.lines_without_cost AS BIGINT) AS lines_without_cost,
  -- DESC puts NULLs last on both engines, so they never take a rank from a known figure.
  CASE WHEN m.gross_margin IS NOT NULL
    THEN RANK() OVER (PARTITION BY m.window_days ORDER BY m.gross_margin DESC) END
    AS rank_by_margin,
  CASE WHEN m.gross_margin_pct IS NOT NULL
    THEN RANK() OVER (PARTITION BY m.window_days ORDER BY m.gross_margin_pct DESC) END
    AS rank_by_margin_pct,
  RANK() OVER (PARTITION BY m.window_days ORDER BY m.revenue DESC) AS rank_by_revenue
FROM measured AS m
LEFT JOIN ingest.products AS p ON p.product_id = m.product_id
