-- One row per cohort (store-local month of a customer's first purchase, from
-- revenue.customer_ltv) and month since then (0 = the first-purchase month, up to the as_of
-- month, months without activity included): the classic cohort curve.
-- revenue is the cohort's net revenue that month (returns deducted on their own day,
-- refunded and void orders excluded); active_customers bought something that month (a
-- return alone does not make a customer active). cumulative_revenue_per_customer divides
-- the revenue to date by everyone in the cohort. The as_of month is only partly over.
-- Customers who bought before the history began look new in its first month.
WITH cohorts AS (
  SELECT cohort_month, COUNT(*) AS cohort_customers
  FROM revenue.customer_ltv
  WHERE cohort_month IS NOT NULL
  GROUP BY cohort_month
), months AS (
  SELECT DISTINCT month FROM revenue.calendar WHERE NOT after_as_of
), activity AS (
  SELECT
    l.cohort_month,
    cal.month,
    COUNT(DISTINCT CASE WHEN NOT s.is_return THEN s.customer_id END) AS active_customers,
    SUM(s.revenue) AS revenue
  FROM ingest.sales_lines AS s
  JOIN revenue.customer_ltv AS l ON l.customer_id = s.customer_id
  JOIN revenue.calendar AS cal ON cal.day = s.sale_date
  WHERE l.cohort_month IS NOT NULL
  GROUP BY l.cohort_month, cal.month
), curve AS (
  SELECT
    c.cohort_month,
    m.month,
    c.cohort_customers,
    COALESCE(a.active_customers, 0) AS active_customers,
    COALESCE(a.revenue, 0) AS revenue
  FROM cohorts AS c
  JOIN months AS m ON m.month >= c.cohort_month
  LEFT JOIN activity AS a ON a.cohort_month = c.cohort_month AND a.month = m.month
)
SELECT
  cohort_month,
  date_diff('month', cohort_month, month) AS months_since_first_purchase,
  month,
  CAST(cohort_customers AS BIGINT) AS cohort_customers,
  CAST(active_customers AS BIGINT) AS active_customers,
  CAST(active_customers AS DOUBLE) / cohort_customers AS active_share,
  revenue,
  cumulative_revenue,
  CAST(cumulative_revenue AS DOUBLE) / cohort_customers AS cumulative_revenue_per_customer
FROM (
  SELECT
    *,
    -- month is never NULL; NULLS FIRST only spells out BigQuery's default so that the
    -- ordering transpiles as written.
    SUM(revenue) OVER (
      PARTITION BY cohort_month ORDER BY month NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS cumulative_revenue
  FROM curve
) AS running
