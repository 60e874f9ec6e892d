-- Which products each content item features (content.product_ids is ';'-separated).
SELECT
  c.content_id,
  c.kind,
  c.category,
  TRIM(featured.product_id) AS product_id
FROM ingest.content AS c
CROSS JOIN UNNEST(string_split(c.product_ids, ';')) AS featured(product_id)
WHERE TRIM(featured.product_id) <> ''
