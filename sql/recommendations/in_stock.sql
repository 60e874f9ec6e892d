-- Stock per product as of as_of (latest count per location, summed), for filtering out
-- what cannot be sold. A product never counted is assumed sellable: the shop may not
-- track stock for everything, and hiding those would hide them for good.
WITH latest AS (
  SELECT
    product_id,
    on_hand,
    ROW_NUMBER() OVER (PARTITION BY product_id, location_id ORDER BY as_of DESC) AS recency
  FROM ingest.inventory
  WHERE as_of <= $as_of
), counted AS (
  SELECT product_id, SUM(on_hand) AS on_hand FROM latest WHERE recency = 1 GROUP BY product_id
)
SELECT
  p.product_id,
  p.category,
  CAST(c.on_hand AS BIGINT) AS on_hand,
  COALESCE(c.on_hand > 0, TRUE) AS in_stock
FROM ingest.products AS p
LEFT JOIN counted AS c ON c.product_id = p.product_id
