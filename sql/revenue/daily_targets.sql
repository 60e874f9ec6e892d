-- One row per store-local day of every month in revenue.monthly_targets (the as_of month
-- up to its last day): the month's target spread over its days, so "today vs target" works.
-- The spread follows the weekday pattern of the same month last year (its average net
-- revenue per weekday; a weekday that lost money weighs 0) when that month lies wholly in
-- the history and sold something; otherwise the target is spread evenly over the month's
-- days (spread says which). Months that start before the history keep their own daily
-- share, so the days listed may add up to less than the month's target.
-- target_source is the month's; actual_revenue is the day's net revenue (returns deducted,
-- refunded/void excluded), NULL for days after as_of.
WITH daily AS (
  SELECT sale_date, SUM(revenue) AS revenue
  FROM revenue.daily_sales
  GROUP BY sale_date
), whole_months AS (
  SELECT month, MIN(year) AS year, MIN(month_of_year) AS month_of_year
  FROM revenue.calendar
  WHERE NOT after_as_of
  GROUP BY month
  HAVING COUNT(*) = MIN(days_in_month)
), weekday_pattern AS (
  SELECT
    m.year,
    m.month_of_year,
    c.iso_weekday,
    GREATEST(AVG(CAST(d.revenue AS DOUBLE)), 0) AS weight
  FROM whole_months AS m
  JOIN revenue.calendar AS c ON c.month = m.month
  JOIN daily AS d ON d.sale_date = c.day
  GROUP BY m.year, m.month_of_year, c.iso_weekday
), weighted AS (
  SELECT
    c.day,
    c.month,
    c.iso_weekday,
    c.days_in_month,
    c.after_as_of,
    p.weight,
    SUM(p.weight) OVER (PARTITION BY c.month) AS month_weight,
    COUNT(*) OVER (PARTITION BY c.month) = c.days_in_month
      AND SUM(p.weight) OVER (PARTITION BY c.month) > 0 AS follows_pattern
  FROM revenue.calendar AS c
  LEFT JOIN weekday_pattern AS p
    ON p.year = c.year - 1 AND p.month_of_year = c.month_of_year
    AND p.iso_weekday = c.iso_weekday
)
SELECT
  w.day,
  w.month,
  w.iso_weekday,
  CAST(
    t.target_revenue
    * CASE WHEN w.follows_pattern THEN w.weight / w.month_weight ELSE 1.0 / w.days_in_month END
    AS DECIMAL(18, 2)
  ) AS target_revenue,
  t.target_source,
  CASE
    WHEN t.target_revenue IS NULL THEN NULL
    WHEN w.follows_pattern THEN 'weekday pattern of the same month last year'
    ELSE 'even'
  END AS spread,
  CASE WHEN NOT w.after_as_of THEN COALESCE(d.revenue, 0) END AS actual_revenue
FROM weighted AS w
JOIN revenue.monthly_targets AS t ON t.month = w.month
LEFT JOIN daily AS d ON d.sale_date = w.day
