-- Which best-sellers (recommendations.popular) each customer already owns, so the API can
-- top up a short list with best-sellers without offering what they bought: the served
-- snapshot holds no purchase history, and this is the only slice of it the top-up needs
-- (at most 100 products per customer, far smaller than their whole history).
-- Repeat-purchase products stay recommendable, as in v1 and v2, so they are left out.
SELECT DISTINCT l.customer_id, l.product_id
FROM ingest.sales_lines AS l
JOIN recommendations.popular AS p ON p.product_id = l.product_id
LEFT JOIN recommendations.repeat_products AS r ON r.product_id = l.product_id
WHERE l.customer_id IS NOT NULL AND NOT l.is_return AND l.ordered_at <= $as_of
  AND NOT COALESCE(r.is_repeat, FALSE)
