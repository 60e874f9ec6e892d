-- Item-to-item neighbours from purchase histories up to as_of ("bought X, also bought Y"):
-- for each product its 50 most similar products.
-- together counts customers who bought both; similarity is the cosine of the two products'
-- buyer sets, together / sqrt(buyers_x * buyers_y), so best-sellers do not neighbour
-- everything. Pairs bought together by fewer than 2 customers are noise and left out.
WITH owned AS (
  SELECT DISTINCT customer_id, product_id
  FROM ingest.sales_lines
  WHERE customer_id IS NOT NULL AND NOT is_return AND ordered_at <= $as_of
), buyers AS (
  SELECT product_id, COUNT(*) AS buyers FROM owned GROUP BY product_id
), pairs AS (
  SELECT a.product_id, b.product_id AS neighbor_id, COUNT(*) AS together
  FROM owned AS a
  JOIN owned AS b ON b.customer_id = a.customer_id AND b.product_id <> a.product_id
  GROUP BY a.product_id, b.product_id
  HAVING COUNT(*) >= 2
), scored AS (
  SELECT
    p.product_id,
    p.neighbor_id,
    p.together,
    p.together / SQRT(CAST(x.buyers AS DOUBLE) * y.buyers) AS similarity
  FROM pairs AS p
  JOIN buyers AS x ON x.product_id = p.product_id
  JOIN buyers AS y ON y.product_id = p.neighbor_id
), ranked AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY similarity DESC, neighbor_id) AS rank
  FROM scored
)
SELECT
  product_id,
  neighbor_id,
  CAST(together AS BIGINT) AS together,
  CAST(similarity AS DOUBLE) AS similarity,
  CAST(rank AS BIGINT) AS rank
FROM ranked
WHERE rank <= 50
