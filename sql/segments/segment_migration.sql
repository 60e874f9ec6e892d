-- One row per month end and pair of primary segments: how many customers were in
-- from_segment at the previous month end of segments.segment_history and in to_segment at
-- this one (staying customers included, from_segment = to_segment), so who moved from
-- At-risk back to Loyalist is a WHERE clause. Customers whose first purchase falls in the
-- month have no previous segment and are left out (they appear in segment_performance);
-- the first month end of the history has no predecessor and no rows.
WITH month_ends AS (
  SELECT
    month_end,
    LAG(month_end) OVER (ORDER BY month_end) AS previous_month_end
  FROM (SELECT DISTINCT month_end FROM segments.segment_history) AS m
)
SELECT
  m.month_end,
  m.previous_month_end,
  p.primary_segment AS from_segment,
  h.primary_segment AS to_segment,
  CAST(COUNT(*) AS BIGINT) AS customers
FROM month_ends AS m
JOIN segments.segment_history AS h ON h.month_end = m.month_end
JOIN segments.segment_history AS p
  ON p.month_end = m.previous_month_end AND p.customer_id = h.customer_id
GROUP BY m.month_end, m.previous_month_end, p.primary_segment, h.primary_segment
