-- One row per store-local calendar day, from the first sale day to the last day of the
-- as_of month: the spine that keeps daily figures free of gaps and the one place the
-- as_of day, months and weekdays are worked out (other models join it instead).
-- Days after the as_of day (after_as_of) exist only so that the as_of month's daily targets
-- cover the whole month; no sales figure is computed for them.
WITH bounds AS (
  SELECT
    MIN(sale_date) AS first_day,
    CAST(timezone($store_tz, CAST($as_of AS TIMESTAMPTZ)) AS DATE) AS as_of_day
  FROM ingest.sales_lines
), days AS (
  -- Integer offsets rather than a date series: they transpile to BigQuery's GENERATE_ARRAY.
  SELECT
    CAST(b.first_day + INTERVAL (s.n) DAY AS DATE) AS day,
    b.as_of_day
  FROM bounds AS b
  CROSS JOIN UNNEST(generate_series(0, date_diff('day', b.first_day, last_day(b.as_of_day))))
    AS s(n)
)
SELECT
  day,
  make_date(EXTRACT(YEAR FROM day), EXTRACT(MONTH FROM day), 1) AS month,
  CAST(EXTRACT(YEAR FROM day) AS BIGINT) AS year,
  CAST(EXTRACT(MONTH FROM day) AS BIGINT) AS month_of_year,
  CAST(EXTRACT(DAY FROM last_day(day)) AS BIGINT) AS days_in_month,
  CAST(isodow(day) AS BIGINT) AS iso_weekday,
  as_of_day,
  day > as_of_day AS after_as_of
FROM days
