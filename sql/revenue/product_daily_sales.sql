-- One row per store-local day and product sold or returned that day, all channels together
-- (days without any line for a product have no row): the base of top products, turnover
-- and reorder figures.
-- Built on ingest.sales_lines: refunded and void orders count nowhere; a return counts on
-- the day it happens. units is net of returns; returned_units is the positive number of
-- units brought back. cost and gross_margin cover only lines with a known cost (NULL when
-- none is known); revenue_with_cost is the revenue of those lines, lines_without_cost how
-- many lines were left out.
SELECT
  sale_date,
  product_id,
  category,
  SUM(revenue) AS revenue,
  CAST(SUM(quantity) AS BIGINT) AS units,
  CAST(SUM(CASE WHEN is_return THEN -quantity ELSE 0 END) AS BIGINT) AS returned_units,
  SUM(cost) AS cost,
  SUM(revenue - cost) AS gross_margin,
  SUM(CASE WHEN cost IS NOT NULL THEN revenue END) AS revenue_with_cost,
  CAST(COUNT(*) - COUNT(cost) AS BIGINT) AS lines_without_cost
FROM ingest.sales_lines
GROUP BY sale_date, product_id, category
