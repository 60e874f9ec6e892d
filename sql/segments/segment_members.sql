-- One row per segmented customer (every customer of segments.customer_segments, which has
-- one row per customer of segments.clv_inputs, or of segments.rfm, which has one per
-- customer with orders in revenue.customer_ltv and is what the clusters are computed from):
-- the contact fields the segment exports and the PII-scoped API endpoint need. Read from
-- those tables' sources, not the tables themselves: who is segmented does not depend on
-- the segment settings, so a segments refresh keeps this table. The only served table
-- with PII: it exists so the published snapshot can stay free of the raw ingest schema (the
-- snapshot copies ingest.products alone) while carrying no more than e-mail, name and
-- consent, and only for customers in a segment.
-- marketing_opt_in is FALSE when unknown: without recorded consent nothing is exported.
WITH segmented AS (
  SELECT customer_id FROM segments.clv_inputs
  UNION DISTINCT
  SELECT customer_id FROM revenue.customer_ltv WHERE orders > 0
)
SELECT
  s.customer_id,
  c.email,
  c.first_name,
  c.last_name,
  COALESCE(c.marketing_opt_in, FALSE) AS marketing_opt_in
FROM segmented AS s
LEFT JOIN ingest.customers AS c ON c.customer_id = s.customer_id
