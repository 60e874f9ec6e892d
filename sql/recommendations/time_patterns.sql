-- What customers buy at each time of the week: per customer segment (their favourite
-- category up to as_of, or '*' for everyone), weekday/weekend and 4-hour daypart of the
-- store's clock, how much more (lift > 1) or less a category is bought then than usual.
-- The API multiplies a recommendation's chance by its category's lift at the request's
-- context_time (Bayes' rule: P(buy | hour) = P(buy) * P(hour | category) / P(hour)).
-- Small cells say little, so each share is shrunk towards the segment's overall share
-- with the weight of 200 lines.
WITH lines AS (
  SELECT
    customer_id,
    category,
    CASE WHEN ISODOW(timezone($store_tz, ordered_at)) >= 6 THEN 'weekend' ELSE 'weekday' END
      AS day_type,
    CAST(FLOOR(HOUR(timezone($store_tz, ordered_at)) / 4) AS BIGINT) AS daypart
  FROM ingest.sales_lines
  WHERE NOT is_return AND ordered_at <= $as_of
), favourite AS (
  SELECT customer_id, category AS segment
  FROM (
    SELECT customer_id, category,
      ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY COUNT(*) DESC, category) AS rank
    FROM lines
    WHERE customer_id IS NOT NULL
    GROUP BY customer_id, category
  ) AS ranked
  WHERE rank = 1
), segmented AS (
  SELECT COALESCE(f.segment, '*') AS segment, l.category, l.day_type, l.daypart
  FROM lines AS l
  LEFT JOIN favourite AS f ON f.customer_id = l.customer_id
  UNION ALL
  SELECT '*' AS segment, category, day_type, daypart FROM lines WHERE customer_id IS NOT NULL
), cells AS (
  SELECT segment, category, day_type, daypart, COUNT(*) AS lines
  FROM segmented
  GROUP BY segment, category, day_type, daypart
), totals AS (
  SELECT
    *,
    SUM(lines) OVER (PARTITION BY segment, day_type, daypart) AS slot_lines,
    SUM(lines) OVER (PARTITION BY segment, category) AS category_lines,
    SUM(lines) OVER (PARTITION BY segment) AS segment_lines
  FROM cells
)
SELECT
  segment,
  category,
  day_type,
  daypart,
  CAST(lines AS BIGINT) AS lines,
  CAST(
    ((lines + 200.0 * category_lines / segment_lines) / (slot_lines + 200.0))
    / (CAST(category_lines AS DOUBLE) / segment_lines)
    AS DOUBLE
  ) AS lift
FROM totals
