-- One row per store-local calendar month, from the first sale month to the as_of month:
-- revenue so far and the month's revenue target, with where the target comes from.
-- actual_revenue is net revenue up to as_of from revenue.daily_sales (returns deducted on
-- their own day, refunded and void orders excluded); days_elapsed counts the month's days
-- up to the as_of day (fewer than days_in_month only for the as_of month and the first one).
-- Target precedence:
--   1. the month's row in the targets file (revenue.targets_input): 'targets file';
--   2. the same month last year x (1 + target_growth): 'same month last year +5%'. When the
--      history starts inside last year's month, its revenue is first scaled up to the whole
--      month, and the label says from how many days (otherwise a partial month would set a
--      target far too low);
--   3. neither: NULL target, 'no target (no sales a year earlier)'.
WITH months AS (
  SELECT
    month,
    MIN(year) AS year,
    MIN(month_of_year) AS month_of_year,
    MIN(days_in_month) AS days_in_month,
    COUNT(CASE WHEN NOT after_as_of THEN 1 END) AS days_elapsed
  FROM revenue.calendar
  GROUP BY month
), actuals AS (
  SELECT c.month, SUM(d.revenue) AS revenue
  FROM revenue.daily_sales AS d
  JOIN revenue.calendar AS c ON c.day = d.sale_date
  GROUP BY c.month
), growth AS (
  -- 0.05 is shown as '+5%'; rounding first keeps 0.07 from printing as 7.000000000000001.
  SELECT
    CASE WHEN $target_growth >= 0 THEN '+' ELSE '' END
    || CASE
         WHEN ROUND($target_growth * 100, 1) = ROUND($target_growth * 100, 0)
           THEN CAST(CAST(ROUND($target_growth * 100, 0) AS BIGINT) AS VARCHAR)
         ELSE CAST(ROUND($target_growth * 100, 1) AS VARCHAR)
       END
    || '%' AS label
), compared AS (
  SELECT
    m.month,
    m.days_in_month,
    m.days_elapsed,
    COALESCE(a.revenue, 0) AS actual_revenue,
    CASE WHEN ly.revenue > 0 THEN ly.revenue END AS last_year_revenue,
    lym.days_elapsed AS last_year_days,
    lym.days_in_month AS last_year_days_in_month,
    f.target_revenue AS file_target
  FROM months AS m
  LEFT JOIN actuals AS a ON a.month = m.month
  LEFT JOIN months AS lym ON lym.year = m.year - 1 AND lym.month_of_year = m.month_of_year
  LEFT JOIN actuals AS ly ON ly.month = lym.month
  LEFT JOIN revenue.targets_input AS f ON f.month = m.month
)
SELECT
  c.month,
  c.days_in_month,
  c.days_elapsed,
  c.actual_revenue,
  c.last_year_revenue,
  CAST(
    CASE
      WHEN c.file_target IS NOT NULL THEN c.file_target
      WHEN c.last_year_revenue IS NOT NULL
        THEN c.last_year_revenue * c.last_year_days_in_month / c.last_year_days
          * (1 + $target_growth)
    END AS DECIMAL(18, 2)
  ) AS target_revenue,
  CASE
    WHEN c.file_target IS NOT NULL THEN 'targets file'
    WHEN c.last_year_revenue IS NOT NULL AND c.last_year_days < c.last_year_days_in_month
      THEN 'same month last year ' || g.label || ' (scaled up from '
        || CAST(c.last_year_days AS VARCHAR) || ' of '
        || CAST(c.last_year_days_in_month AS VARCHAR) || ' days)'
    WHEN c.last_year_revenue IS NOT NULL THEN 'same month last year ' || g.label
    ELSE 'no target (no sales a year earlier)'
  END AS target_source
FROM compared AS c
CROSS JOIN growth AS g
