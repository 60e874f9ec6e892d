-- One row per identified customer with at least one completed order line up to as_of
-- (walk-in orders, with no customer, are left out): the customer's historic value.
-- From ingest.sales_lines: refunded and void orders count nowhere; revenue is net of
-- returns. An order counts as a purchase when it has at least one non-return line; orders,
-- first/last order and the cohort (store-local month of the first purchase) count purchases
-- only, so a customer who only returned things in this history has 0 orders and NULL dates.
-- tenure_days runs from the first purchase day to the as_of day, both store-local.
WITH orders AS (
  SELECT * FROM revenue.customer_orders
), customers AS (
  SELECT
    customer_id,
    MIN(CASE WHEN is_purchase THEN ordered_at END) AS first_order_at,
    MAX(CASE WHEN is_purchase THEN ordered_at END) AS last_order_at,
    MIN(CASE WHEN is_purchase THEN sale_date END) AS first_order_date,
    MAX(CASE WHEN is_purchase THEN sale_date END) AS last_order_date,
    COUNT(CASE WHEN is_purchase THEN 1 END) AS orders,
    SUM(revenue) AS revenue
  FROM orders
  GROUP BY customer_id
), as_of AS (
  SELECT MAX(as_of_day) AS as_of_day FROM revenue.calendar
)
SELECT
  c.customer_id,
  c.first_order_at,
  c.last_order_at,
  CAST(c.orders AS BIGINT) AS orders,
  c.revenue,
  CASE WHEN c.orders > 0 THEN c.revenue / c.orders END AS average_order_value,
  date_diff('day', c.first_order_date, a.as_of_day) AS tenure_days,
  date_diff('day', c.last_order_date, a.as_of_day) AS days_since_last_order,
  cal.month AS cohort_month
FROM customers AS c
CROSS JOIN as_of AS a
LEFT JOIN revenue.calendar AS cal ON cal.day = c.first_order_date
