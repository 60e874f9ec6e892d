-- v2 candidates: for every customer known by purchases or recent engagement up to
-- as_of, the products worth scoring and one feature column per signal (the learned
-- weights of the v2 model turn them into a score).
-- Customers with no purchase in the last 365 days and no engagement in the last 30 are
-- left to the cold-start lists. Candidates come from: co-purchase neighbours of what they
-- bought (top 40 of recommendations.co_purchase), neighbours of what they viewed (top
-- 20), cross-sell rules from their last 90 days' orders, content they engaged with,
-- carts they abandoned, products they viewed, the 25 best-sellers of their 3 favourite
-- categories and the shop's 20 best-sellers. Out-of-stock products are
-- dropped, so are products already bought unless repeat-purchase.
-- Features (counts enter as ln(1 + x), so a tenth view adds less than the first):
-- co_purchase ln(1 + summed item similarity to their purchases); cross_sell best rule
-- confidence; category_affinity ln of the category's share of their purchase lines
-- (Laplace-smoothed over the catalogue's categories); category_popularity ln of the
-- product's share of its category's buyers in the last 28 days; content /
-- content_category engagement in the last 30 days with content featuring the product /
-- its category; cart_abandoned cart adds in the last 30 days not bought since; viewed
-- product views likewise; similar_views ln(1 + summed similarity to products they
-- viewed); trend ln of buyers in the last 28 days over the 28 before; season ln of the
-- category's share of sales in the coming 30 days one year earlier over its share in
-- that whole year (0 without a year of history); popularity ln(1 + buyers in the last 28
-- days); repurchase ln(1 + orders) of a repeat-purchase product they bought. The
-- *_vs_best columns are the same signal minus the customer's best candidate's, so the
-- ranking within one customer's list does not depend on how much they buy overall.
WITH lines AS (
  SELECT
    customer_id, order_id, product_id, category, ordered_at,
    date_diff('day', ordered_at, CAST($as_of AS TIMESTAMPTZ)) AS age_days
  FROM ingest.sales_lines
  WHERE customer_id IS NOT NULL AND NOT is_return AND ordered_at <= $as_of
  -- Only customers who bought in the last 365 days or engaged in the last 30: lapsed
  -- ones are served the cold-start best-sellers, keeping the table bounded.
  QUALIFY MAX(ordered_at) OVER (PARTITION BY customer_id) > $as_of - INTERVAL 365 DAY
    OR customer_id IN (SELECT customer_id FROM ingest.events
      WHERE occurred_at <= $as_of AND occurred_at > $as_of - INTERVAL 30 DAY)
), owned AS (
  SELECT customer_id, product_id, COUNT(DISTINCT order_id) AS orders,
    MAX(ordered_at) AS last_bought
  FROM lines
  GROUP BY customer_id, product_id
), recent_events AS (
  SELECT customer_id, event_type, product_id, content_id, occurred_at
  FROM ingest.events
  WHERE occurred_at <= $as_of AND occurred_at > $as_of - INTERVAL 30 DAY
), category_lines AS (
  SELECT customer_id, category, COUNT(*) AS lines FROM lines GROUP BY customer_id, category
), category_list AS (
  SELECT DISTINCT category FROM ingest.products
), affinity AS (
  -- Laplace-smoothed: a category never bought still gets 1 / (lines + categories).
  SELECT
    c.customer_id, k.category,
    (COALESCE(l.lines, 0) + 1.0)
      / (SUM(COALESCE(l.lines, 0)) OVER (PARTITION BY c.customer_id) + COUNT(*) OVER (
        PARTITION BY c.customer_id)) AS share,
    ROW_NUMBER() OVER (
      PARTITION BY c.customer_id ORDER BY COALESCE(l.lines, 0) DESC, k.category
    ) AS rank
  FROM (SELECT DISTINCT customer_id FROM lines) AS c
  CROSS JOIN category_list AS k
  LEFT JOIN category_lines AS l ON l.customer_id = c.customer_id AND l.category = k.category
), product_sales AS (
  SELECT
    product_id,
    COUNT(DISTINCT CASE WHEN ordered_at > $as_of - INTERVAL 28 DAY
      THEN COALESCE(customer_id, order_id) END) AS recent,
    COUNT(DISTINCT CASE WHEN ordered_at <= $as_of - INTERVAL 28 DAY
      THEN COALESCE(customer_id, order_id) END) AS prior
  FROM ingest.sales_lines
  WHERE NOT is_return AND ordered_at <= $as_of AND ordered_at > $as_of - INTERVAL 56 DAY
  GROUP BY product_id
), category_sales AS (
  SELECT
    s.product_id,
    CAST(p.recent AS DOUBLE) / NULLIF(SUM(p.recent) OVER (PARTITION BY s.category), 0) AS share
  FROM recommendations.in_stock AS s
  JOIN product_sales AS p ON p.product_id = s.product_id
), year_sales AS (
  SELECT
    category,
    SUM(CASE WHEN ordered_at < $as_of - INTERVAL 335 DAY THEN 1 ELSE 0 END) AS window_lines,
    COUNT(*) AS year_lines
  FROM ingest.sales_lines
  WHERE NOT is_return AND ordered_at <= $as_of AND ordered_at >= $as_of - INTERVAL 365 DAY
  GROUP BY category
), season AS (
  SELECT
    category,
    LN(
      (CAST(window_lines AS DOUBLE) / NULLIF(SUM(window_lines) OVER (), 0))
      / (CAST(year_lines AS DOUBLE) / SUM(year_lines) OVER ())
    ) AS season
  FROM year_sales
), engaged_content AS (
  SELECT e.customer_id, cp.product_id, COUNT(*) AS events
  FROM recent_events AS e
  JOIN ingest.content_products AS cp ON cp.content_id = e.content_id
  WHERE e.event_type IN ('content_view', 'video_view', 'article_read')
  GROUP BY e.customer_id, cp.product_id
), engaged_category AS (
  SELECT e.customer_id, c.category, COUNT(*) AS events
  FROM recent_events AS e
  JOIN ingest.content AS c ON c.content_id = e.content_id
  WHERE e.event_type IN ('content_view', 'video_view', 'article_read')
    AND c.category IS NOT NULL
  GROUP BY e.customer_id, c.category
), not_bought_since AS (
  SELECT e.customer_id, e.product_id, e.event_type
  FROM recent_events AS e
  LEFT JOIN owned AS o
    ON o.customer_id = e.customer_id AND o.product_id = e.product_id
    AND o.last_bought >= e.occurred_at
  WHERE e.event_type IN ('product_view', 'cart_add') AND o.product_id IS NULL
), interest AS (
  SELECT
    customer_id, product_id,
    SUM(CASE WHEN event_type = 'cart_add' THEN 1 ELSE 0 END) AS cart_adds,
    SUM(CASE WHEN event_type = 'product_view' THEN 1 ELSE 0 END) AS views
  FROM not_bought_since
  GROUP BY customer_id, product_id
), similar_views AS (
  SELECT i.customer_id, n.neighbor_id AS product_id, SUM(n.similarity) AS similarity
  FROM interest AS i
  JOIN recommendations.item_neighbors AS n ON n.product_id = i.product_id
  WHERE i.views > 0
  GROUP BY i.customer_id, n.neighbor_id
), cross_sell AS (
  SELECT b.customer_id, r.consequent AS product_id, MAX(r.confidence) AS confidence
  FROM (SELECT DISTINCT customer_id, product_id FROM lines WHERE age_days <= 90) AS b
  JOIN recommendations.cross_sell_rules AS r ON r.antecedent = b.product_id
  GROUP BY b.customer_id, r.consequent
), category_top AS (
  SELECT s.product_id, s.category
  FROM recommendations.in_stock AS s
  JOIN product_sales AS p ON p.product_id = s.product_id
  WHERE s.in_stock
  QUALIFY ROW_NUMBER() OVER (PARTITION BY s.category ORDER BY p.recent DESC, s.product_id) <= 25
), customers AS (
  SELECT customer_id FROM lines
  UNION
  SELECT customer_id FROM recent_events WHERE customer_id IS NOT NULL
), pool AS (
  SELECT customer_id, product_id FROM recommendations.co_purchase
  QUALIFY ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY similarity DESC, product_id) <= 40
  UNION
  SELECT customer_id, product_id FROM similar_views
  QUALIFY ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY similarity DESC, product_id) <= 20
  UNION
  SELECT customer_id, product_id FROM cross_sell
  UNION
  SELECT customer_id, product_id FROM engaged_content
  UNION
  SELECT customer_id, product_id FROM interest
  UNION
  SELECT a.customer_id, t.product_id
  FROM affinity AS a
  JOIN category_top AS t ON t.category = a.category
  WHERE a.rank <= 3
  UNION
  SELECT c.customer_id, p.product_id
  FROM customers AS c
  CROSS JOIN recommendations.popular AS p
  WHERE p.rank <= 20
), features AS (
  SELECT
    p.customer_id,
    p.product_id,
    s.category,
    LN(1 + COALESCE(cp.similarity, 0)) AS co_purchase,
    COALESCE(cs.confidence, 0) AS cross_sell,
    LN(COALESCE(a.share, 1.0 / k.categories)) AS category_affinity,
    LN(0.001 + COALESCE(cs2.share, 0)) AS category_popularity,
    LN(1 + COALESCE(ec.events, 0)) AS content,
    LN(1 + COALESCE(eg.events, 0)) AS content_category,
    LN(1 + COALESCE(i.cart_adds, 0)) AS cart_abandoned,
    LN(1 + COALESCE(i.views, 0)) AS viewed,
    LN(1 + COALESCE(sv.similarity, 0)) AS similar_views,
    LN((COALESCE(ps.recent, 0) + 1.0) / (COALESCE(ps.prior, 0) + 1.0)) AS trend,
    COALESCE(se.season, 0) AS season,
    LN(1 + COALESCE(ps.recent, 0)) AS popularity,
    LN(1 + COALESCE(o.orders, 0)) AS repurchase
  FROM pool AS p
  JOIN recommendations.in_stock AS s ON s.product_id = p.product_id AND s.in_stock
  LEFT JOIN owned AS o ON o.customer_id = p.customer_id AND o.product_id = p.product_id
  LEFT JOIN recommendations.repeat_products AS r ON r.product_id = p.product_id
  LEFT JOIN recommendations.co_purchase AS cp
    ON cp.customer_id = p.customer_id AND cp.product_id = p.product_id
  LEFT JOIN cross_sell AS cs ON cs.customer_id = p.customer_id AND cs.product_id = p.product_id
  LEFT JOIN affinity AS a ON a.customer_id = p.customer_id AND a.category = s.category
  LEFT JOIN engaged_content AS ec
    ON ec.customer_id = p.customer_id AND ec.product_id = p.product_id
  LEFT JOIN engaged_category AS eg ON eg.customer_id = p.customer_id AND eg.category = s.category
  LEFT JOIN interest AS i ON i.customer_id = p.customer_id AND i.product_id = p.product_id
  LEFT JOIN similar_views AS sv ON sv.customer_id = p.customer_id AND sv.product_id = p.product_id
  LEFT JOIN product_sales AS ps ON ps.product_id = p.product_id
  LEFT JOIN season AS se ON se.category = s.category
  LEFT JOIN category_sales AS cs2 ON cs2.product_id = p.product_id
  CROSS JOIN (SELECT COUNT(*) AS categories FROM category_list) AS k
  WHERE o.product_id IS NULL OR COALESCE(r.is_repeat, FALSE)
)
SELECT
  *,
  co_purchase - MAX(co_purchase) OVER (PARTITION BY customer_id) AS co_purchase_vs_best,
  similar_views - MAX(similar_views) OVER (PARTITION BY customer_id) AS similar_views_vs_best,
  category_affinity - MAX(category_affinity) OVER (PARTITION BY customer_id)
    AS category_affinity_vs_best
FROM features
