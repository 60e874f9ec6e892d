-- Stock per product as of as_of: the latest count per location, summed over locations.
-- Counts taken after as_of are not known yet and are ignored.
WITH latest AS (
  SELECT
    product_id,
    location_id,
    on_hand,
    on_order,
    on_hand_was_negative,
    as_of,
    row_number() OVER (PARTITION BY product_id, location_id ORDER BY as_of DESC) AS recency
  FROM ingest.inventory
  WHERE as_of <= $as_of
)
SELECT
  product_id,
  SUM(on_hand) AS on_hand,
  SUM(on_order) AS on_order,
  MAX(as_of) AS counted_at,
  COUNT(*) AS locations,
  BOOL_OR(on_hand_was_negative) AS had_negative_count
FROM latest
WHERE recency = 1
GROUP BY product_id
