-- One row per identified customer with at least one purchase up to as_of: the purchase
-- history in the form the BG/NBD and Gamma-Gamma models read (segments.customer_clv), in days.
-- A purchase is an order with at least one non-return line (as in revenue.customer_ltv);
-- all purchases on one store-local day are one purchase occasion, as in the BG/NBD papers.
-- frequency is the number of purchase days after the first (the papers' x), t_x_days runs
-- from the first to the last purchase day (t_x) and tenure_days from the first purchase day
-- to the as_of day (T). monetary_value is the average net value of the repeat purchase days,
-- the first day left out as Gamma-Gamma wants (NULL without repeats); returns inside a
-- purchase order reduce its value, return-only orders count nowhere here.
-- mean_gap_days and gap_cv (standard deviation over mean of the gaps between purchase days)
-- describe the customer's own cadence; both are NULL with a single purchase day, gap_cv
-- also with two (one gap has no spread to measure).
WITH orders AS (
  SELECT * FROM revenue.customer_orders
), purchase_days AS (
  SELECT customer_id, sale_date, SUM(revenue) AS revenue
  FROM orders
  WHERE is_purchase
  GROUP BY customer_id, sale_date
), occasions AS (
  SELECT
    customer_id,
    sale_date,
    revenue,
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY sale_date) AS occasion,
    date_diff(
      'day', LAG(sale_date) OVER (PARTITION BY customer_id ORDER BY sale_date), sale_date
    ) AS gap_days
  FROM purchase_days
), as_of AS (
  SELECT MAX(as_of_day) AS as_of_day FROM revenue.calendar
)
SELECT
  o.customer_id,
  MIN(o.sale_date) AS first_purchase_date,
  MAX(o.sale_date) AS last_purchase_date,
  CAST(COUNT(*) AS BIGINT) AS purchase_days,
  CAST(COUNT(*) - 1 AS BIGINT) AS frequency,
  date_diff('day', MIN(o.sale_date), MAX(o.sale_date)) AS t_x_days,
  date_diff('day', MIN(o.sale_date), a.as_of_day) AS tenure_days,
  date_diff('day', MAX(o.sale_date), a.as_of_day) AS days_since_last_purchase,
  CAST(AVG(CASE WHEN o.occasion > 1 THEN o.revenue END) AS DOUBLE) AS monetary_value,
  CAST(SUM(o.revenue) AS DOUBLE) AS purchase_revenue,
  CAST(AVG(o.gap_days) AS DOUBLE) AS mean_gap_days,
  CASE
    WHEN COUNT(o.gap_days) >= 2 AND AVG(o.gap_days) > 0
      THEN CAST(STDDEV_POP(o.gap_days) / AVG(o.gap_days) AS DOUBLE)
  END AS gap_cv
FROM occasions AS o
CROSS JOIN as_of AS a
GROUP BY o.customer_id, a.as_of_day
