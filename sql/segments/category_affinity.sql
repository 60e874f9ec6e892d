-- One row per customer and product category they bought or engaged with up to as_of: how
-- much of the customer's buying and browsing concentrates there (the product-affinity
-- segments take each customer's first-ranked category).
-- purchase_lines counts lines of purchases (a product bought in an order; quantities and
-- prices do not weigh in, so one expensive category cannot dominate by price alone) from
-- ingest.sales_lines; return lines are not purchases. engagement_events counts product views
-- and cart additions (the product's category) and content views, video views and article
-- reads (the content item's category; items without one count nowhere).
-- affinity_share is the mean of the category's share of the customer's purchase lines and
-- its share of their engagement events. A customer without any engagement is judged on
-- purchases alone; one who never bought counts a purchase share of 0, so browsing alone
-- reaches at most 0.5. affinity_rank 1 is the highest share (ties: more purchases, then name).
WITH purchases AS (
  SELECT customer_id, category, COUNT(*) AS purchase_lines
  FROM ingest.sales_lines
  WHERE customer_id IS NOT NULL AND NOT is_return
  GROUP BY customer_id, category
), engagement AS (
  SELECT e.customer_id, COALESCE(p.category, c.category) AS category, COUNT(*) AS events
  FROM ingest.events AS e
  LEFT JOIN ingest.products AS p
    ON p.product_id = e.product_id AND e.event_type IN ('product_view', 'cart_add')
  LEFT JOIN ingest.content AS c
    ON c.content_id = e.content_id
    AND e.event_type IN ('content_view', 'video_view', 'article_read')
  WHERE e.occurred_at <= $as_of
    AND e.event_type IN ('product_view', 'cart_add', 'content_view', 'video_view', 'article_read')
  GROUP BY e.customer_id, COALESCE(p.category, c.category)
), combined AS (
  SELECT
    COALESCE(b.customer_id, g.customer_id) AS customer_id,
    COALESCE(b.category, g.category) AS category,
    COALESCE(b.purchase_lines, 0) AS purchase_lines,
    COALESCE(g.events, 0) AS engagement_events
  FROM purchases AS b
  FULL OUTER JOIN engagement AS g
    ON g.customer_id = b.customer_id AND g.category = b.category
  WHERE COALESCE(b.category, g.category) IS NOT NULL
), shares AS (
  SELECT
    *,
    CAST(purchase_lines AS DOUBLE)
      / NULLIF(SUM(purchase_lines) OVER (PARTITION BY customer_id), 0) AS purchase_share,
    CAST(engagement_events AS DOUBLE)
      / NULLIF(SUM(engagement_events) OVER (PARTITION BY customer_id), 0) AS engagement_share
  FROM combined
), scored AS (
  SELECT
    *,
    CASE
      WHEN engagement_share IS NULL THEN COALESCE(purchase_share, 0)
      WHEN purchase_share IS NULL THEN engagement_share / 2
      ELSE (purchase_share + engagement_share) / 2
    END AS affinity_share
  FROM shares
)
SELECT
  customer_id,
  category,
  CAST(purchase_lines AS BIGINT) AS purchase_lines,
  CAST(engagement_events AS BIGINT) AS engagement_events,
  COALESCE(purchase_share, 0) AS purchase_share,
  COALESCE(engagement_share, 0) AS engagement_share,
  affinity_share,
  CAST(ROW_NUMBER() OVER (
    PARTITION BY customer_id
    ORDER BY affinity_share DESC, purchase_lines DESC, category NULLS FIRST
  ) AS BIGINT) AS affinity_rank
FROM scored
