-- One row per month end and customer (bought by then): the customer's primary segment at
-- each of the last 12 month ends up to as_of, reconstructed from ingest.sales_lines alone,
-- so the history needs no earlier run. Month ends are the last days of the 12 most recent
-- months that are over by the as_of day (the as_of day itself when it ends its month).
-- This is the historical approximation of the live rules of segments.customer_segments:
-- the live table ranks VIPs by predicted CLV and flags falling P(alive) as At-risk, which
-- exist for the current as_of only, so every month end here (the latest included, keeping
-- the series and the migrations consistent) applies the simple rules with the same
-- thresholds (settings ANALYTICS_SEGMENT_*, defaults in brackets):
--   vip        top share of customers by net purchase revenue to the month end [10 %].
--   new        first purchase day fewer than new_days before the month end [30].
--   inactive   no purchase for inactive_days or more [90].
--   at_risk    two or more purchase days and the days since the last one beyond
--              at_risk_gap_multiple times their own mean gap between purchase days [3.0].
--   loyalist   loyalist_min_purchases purchase days or more [5] (no cadence test).
-- Primary segment, first that applies, as live: vip, new, inactive, at_risk, loyalist,
-- else 'regular' (product-affinity groups are not reconstructed). A purchase is an order
-- with a non-return line, all of one store-local day one occasion (as segments.clv_inputs).
WITH bounds AS (
  SELECT CAST(timezone($store_tz, CAST($as_of AS TIMESTAMPTZ)) AS DATE) AS as_of_day
), month_ends AS (
  -- Offsets from the first of the as_of month: -1 is the previous month's last day.
  SELECT
    CAST(
      make_date(EXTRACT(YEAR FROM b.as_of_day), EXTRACT(MONTH FROM b.as_of_day), 1)
        + INTERVAL (s.n) MONTH - INTERVAL 1 DAY AS DATE
    ) AS month_end
  FROM bounds AS b
  CROSS JOIN UNNEST(generate_series(
    CASE WHEN b.as_of_day = last_day(b.as_of_day) THEN -10 ELSE -11 END,
    CASE WHEN b.as_of_day = last_day(b.as_of_day) THEN 1 ELSE 0 END
  )) AS s(n)
), orders AS (
  SELECT * FROM revenue.customer_orders
), purchase_days AS (
  SELECT customer_id, sale_date, SUM(revenue) AS revenue
  FROM orders
  WHERE is_purchase
  GROUP BY customer_id, sale_date
), to_date AS (
  SELECT
    m.month_end,
    p.customer_id,
    CAST(COUNT(*) AS BIGINT) AS purchase_days,
    date_diff('day', MIN(p.sale_date), m.month_end) AS tenure_days,
    date_diff('day', MAX(p.sale_date), m.month_end) AS days_since_last_purchase,
    -- The mean of the gaps between purchase days is their span over their number.
    CASE WHEN COUNT(*) >= 2
      THEN CAST(date_diff('day', MIN(p.sale_date), MAX(p.sale_date)) AS DOUBLE)
        / (COUNT(*) - 1)
    END AS mean_gap_days,
    CAST(SUM(p.revenue) AS DOUBLE) AS revenue_to_date
  FROM month_ends AS m
  JOIN purchase_days AS p ON p.sale_date <= m.month_end
  GROUP BY m.month_end, p.customer_id
), flagged AS (
  SELECT
    *,
    revenue_to_date > 0 AND ROW_NUMBER() OVER (
      PARTITION BY month_end ORDER BY revenue_to_date DESC, customer_id NULLS FIRST
    ) <= CEIL($segment_vip_share * COUNT(*) OVER (PARTITION BY month_end)) AS is_vip,
    tenure_days < $segment_new_days AS is_new,
    days_since_last_purchase >= $segment_inactive_days AS is_inactive,
    purchase_days >= 2
      AND days_since_last_purchase > $segment_at_risk_gap_multiple * GREATEST(mean_gap_days, 1)
      AS is_at_risk,
    purchase_days >= $segment_loyalist_min_purchases AS is_loyalist
  FROM to_date
)
SELECT
  month_end,
  customer_id,
  purchase_days,
  tenure_days,
  days_since_last_purchase,
  mean_gap_days,
  revenue_to_date,
  CASE
    WHEN is_vip THEN 'vip'
    WHEN is_new THEN 'new'
    WHEN is_inactive THEN 'inactive'
    WHEN is_at_risk THEN 'at_risk'
    WHEN is_loyalist THEN 'loyalist'
    ELSE 'regular'
  END AS primary_segment
FROM flagged
