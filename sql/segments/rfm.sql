-- One row per customer with at least one purchase up to as_of: recency, frequency and
-- monetary value, their quintile scores (5 = best) and the standard RFM cell and segment.
-- From revenue.customer_ltv: recency_days is days since the last purchase day (store-local),
-- frequency the number of purchase orders, monetary the net revenue to date (returns
-- deducted, refunded and void orders excluded), all over the whole history up to as_of.
-- Scores: NTILE(5) over all customers (recent, frequent and high-spending rank high), then
-- every customer takes the lowest quintile their value reaches, so equal values always
-- score the same. Where one value covers more than a fifth of the customers (one-time
-- buyers, say) some scores stay unused: all one-time buyers score F = 1, none of them 2.
-- rfm_cell joins the three scores ('545'); rfm_segment is the common map of the R and F
-- scores onto ten named groups (M is in the cell but does not change the name).
WITH base AS (
  SELECT
    customer_id,
    days_since_last_order AS recency_days,
    orders AS frequency,
    revenue AS monetary
  FROM revenue.customer_ltv
  WHERE orders > 0
), ranked AS (
  -- The three sorted columns are never NULL here, so NULL ordering cannot matter.
  -- RANK() - 1 is the position of the first customer with the same value, whose NTILE(5)
  -- is the lowest quintile that value reaches: one sort per score instead of two.
  SELECT
    *,
    RANK() OVER (ORDER BY recency_days DESC) - 1 AS r_pos,
    RANK() OVER (ORDER BY frequency) - 1 AS f_pos,
    RANK() OVER (ORDER BY monetary) - 1 AS m_pos,
    COUNT(*) OVER () AS n
  FROM base
), buckets AS (
  -- NTILE(5) puts n // 5 + 1 rows in each of the first n % 5 quintiles, n // 5 in the rest.
  SELECT *, n // 5 AS q, n % 5 AS r FROM ranked
), scores AS (
  SELECT
    customer_id,
    recency_days,
    frequency,
    monetary,
    CASE WHEN r_pos < r * (q + 1) THEN r_pos // (q + 1) ELSE (r_pos - r) // GREATEST(q, 1) END
      + 1 AS r_score,
    CASE WHEN f_pos < r * (q + 1) THEN f_pos // (q + 1) ELSE (f_pos - r) // GREATEST(q, 1) END
      + 1 AS f_score,
    CASE WHEN m_pos < r * (q + 1) THEN m_pos // (q + 1) ELSE (m_pos - r) // GREATEST(q, 1) END
      + 1 AS m_score
  FROM buckets
)
SELECT
  customer_id,
  recency_days,
  frequency,
  monetary,
  CAST(r_score AS BIGINT) AS r_score,
  CAST(f_score AS BIGINT) AS f_score,
  CAST(m_score AS BIGINT) AS m_score,
  CAST(r_score AS VARCHAR) || CAST(f_score AS VARCHAR) || CAST(m_score AS VARCHAR) AS rfm_cell,
  CASE
    WHEN r_score <= 2 AND f_score <= 2 THEN 'Hibernating'
    WHEN r_score <= 2 AND f_score <= 4 THEN 'At risk'
    WHEN r_score <= 2 THEN 'Cannot lose them'
    WHEN r_score = 3 AND f_score <= 2 THEN 'About to sleep'
    WHEN r_score = 3 AND f_score = 3 THEN 'Need attention'
    WHEN f_score >= 4 AND r_score <= 4 THEN 'Loyal customers'
    WHEN f_score >= 4 THEN 'Champions'
    WHEN f_score >= 2 THEN 'Potential loyalists'
    WHEN r_score = 4 THEN 'Promising'
    ELSE 'New customers'
  END AS rfm_segment
FROM scores
