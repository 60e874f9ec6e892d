-- One row per order of an identified customer up to as_of (walk-in orders, with no
-- customer, are left out): the order-level base of customer value, RFM, the BG/NBD inputs
-- and segment history, so each of them reads the order lines once rather than again.
-- From ingest.sales_lines: refunded and void orders count nowhere; revenue is net of the
-- order's returns. is_purchase marks an order with at least one non-return line (a
-- return-only order is not a purchase); sale_date is the store-local day of the order.
SELECT
  customer_id,
  order_id,
  MIN(ordered_at) AS ordered_at,
  MIN(sale_date) AS sale_date,
  SUM(revenue) AS revenue,
  MIN(CASE WHEN is_return THEN 1 ELSE 0 END) = 0 AS is_purchase
FROM ingest.sales_lines
WHERE customer_id IS NOT NULL
GROUP BY customer_id, order_id
