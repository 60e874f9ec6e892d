-- One row per line of a completed order placed up to as_of: the base of every
-- revenue, margin and demand figure.
-- Refunded and void orders count nowhere. A return (negative quantity) counts on the day
-- it happens, with negative revenue. A line discount always shrinks the line's value, so
-- for a return it shrinks the refund: revenue = qty * price - sign(qty) * discount.
-- Cost uses the line's cost at the time of sale, else the product's current unit_cost;
-- when neither is known the margin is unknown (NULL), not zero.
SELECT
  l.order_id,
  l.line_number,
  o.customer_id,
  o.channel,
  o.ordered_at,
  CAST(timezone($store_tz, o.ordered_at) AS DATE) AS sale_date,
  l.product_id,
  COALESCE(p.category, 'uncategorized') AS category,
  l.quantity,
  l.unit_price,
  l.discount,
  l.quantity * l.unit_price - SIGN(l.quantity) * l.discount AS revenue,
  l.quantity * COALESCE(l.unit_cost, p.unit_cost) AS cost,
  l.quantity < 0 AS is_return
FROM ingest.order_lines AS l
JOIN ingest.orders AS o ON o.order_id = l.order_id
LEFT JOIN ingest.products AS p ON p.product_id = l.product_id
WHERE o.status = 'completed'
  AND o.ordered_at <= $as_of
