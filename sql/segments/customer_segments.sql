-- One row per customer with at least one purchase up to as_of: every named segment that
-- applies (one flag each) and one primary segment, from segments.clv_inputs (purchase days),
-- segments.customer_clv (model outputs) and segments.category_affinity.
-- Rules (thresholds are settings, ANALYTICS_SEGMENT_*; defaults in brackets):
--   vip        top share of customers by predicted CLV [10 %]; when CLV could not be fitted
--              (clv_method 'insufficient_data') by net purchase revenue instead.
--   new        first purchase day fewer than new_days before the as_of day [30].
--   inactive   no purchase for inactive_days or more [90].
--   at_risk    was active (two or more purchase days) and either is now well overdue, the
--              days since the last purchase beyond at_risk_gap_multiple times their own mean
--              gap between purchase days [3.0], or has P(alive) below at_risk_p_alive [0.5].
--   loyalist   loyalist_min_purchases purchase days or more [5] at a consistent cadence:
--              gaps whose coefficient of variation is at most loyalist_max_gap_cv [0.75;
--              a buyer at random moments, a Poisson process, has gaps with 1.0].
--   affinity   the first-ranked category in segments.category_affinity holds at least
--              affinity_min_share of the customer's buying and browsing [0.5] and at least
--              affinity_min_purchases purchase lines [2]; segment id 'affinity:<category>'.
-- Primary segment, first that applies: vip, new, inactive, at_risk, loyalist, affinity,
-- else 'regular'. Value first (the VIP programme keeps its members whatever else applies),
-- then the life-cycle stage (new, lapsed, slipping), then the habits. segments lists every
-- segment that applies in that order, comma-separated ('' when none does).
WITH customers AS (
  SELECT
    i.customer_id,
    i.first_purchase_date,
    i.last_purchase_date,
    i.purchase_days,
    i.tenure_days,
    i.days_since_last_purchase,
    i.mean_gap_days,
    i.gap_cv,
    i.purchase_revenue,
    v.p_alive,
    v.predicted_clv,
    COALESCE(v.predicted_clv, i.purchase_revenue) AS value_basis,
    a.category AS top_category,
    a.affinity_share,
    a.purchase_lines AS top_category_purchase_lines
  FROM segments.clv_inputs AS i
  LEFT JOIN segments.customer_clv AS v ON v.customer_id = i.customer_id
  LEFT JOIN segments.category_affinity AS a
    ON a.customer_id = i.customer_id AND a.affinity_rank = 1
), flagged AS (
  SELECT
    *,
    -- customers has one row per clv_inputs row; counting that table, not COUNT(*) OVER (),
    -- saves a window pass over every customer.
    value_basis > 0 AND ROW_NUMBER() OVER (ORDER BY value_basis DESC, customer_id NULLS FIRST)
      <= CEIL($segment_vip_share * (SELECT COUNT(*) FROM segments.clv_inputs)) AS is_vip,
    tenure_days < $segment_new_days AS is_new,
    days_since_last_purchase >= $segment_inactive_days AS is_inactive,
    purchase_days >= 2 AND (
      days_since_last_purchase > $segment_at_risk_gap_multiple * GREATEST(mean_gap_days, 1)
      OR COALESCE(p_alive < $segment_at_risk_p_alive, FALSE)
    ) AS is_at_risk,
    purchase_days >= $segment_loyalist_min_purchases
      AND COALESCE(gap_cv <= $segment_loyalist_max_gap_cv, FALSE) AS is_loyalist,
    CASE
      WHEN affinity_share >= $segment_affinity_min_share
        AND top_category_purchase_lines >= $segment_affinity_min_purchases
        THEN top_category
    END AS affinity_category
  FROM customers
)
SELECT
  customer_id,
  first_purchase_date,
  last_purchase_date,
  purchase_days,
  days_since_last_purchase,
  mean_gap_days,
  gap_cv,
  purchase_revenue,
  p_alive,
  predicted_clv,
  is_vip,
  is_new,
  is_inactive,
  is_at_risk,
  is_loyalist,
  affinity_category,
  -- Plain concatenation: BigQuery has no concat_ws, and its arrays cannot hold NULLs.
  ltrim(
    CASE WHEN is_vip THEN ',vip' ELSE '' END
    || CASE WHEN is_new THEN ',new' ELSE '' END
    || CASE WHEN is_inactive THEN ',inactive' ELSE '' END
    || CASE WHEN is_at_risk THEN ',at_risk' ELSE '' END
    || CASE WHEN is_loyalist THEN ',loyalist' ELSE '' END
    || COALESCE(',affinity:' || affinity_category, ''),
    ','
  ) AS segments,
  CASE
    WHEN is_vip THEN 'vip'
    WHEN is_new THEN 'new'
    WHEN is_inactive THEN 'inactive'
    WHEN is_at_risk THEN 'at_risk'
    WHEN is_loyalist THEN 'loyalist'
    WHEN affinity_category IS NOT NULL THEN 'affinity:' || affinity_category
    ELSE 'regular'
  END AS primary_segment
FROM flagged
