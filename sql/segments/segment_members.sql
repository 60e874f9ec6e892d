-- One row per segmented customer (segments.customer_segments or segments.rfm, which the
-- clusters are computed from): the contact fields the segment exports and the PII-scoped
-- API endpoint need. The only served table with PII: it exists so the published snapshot
-- can stay free of the raw ingest schema (the snapshot copies ingest.products alone) while
-- carrying no more than e-mail, name and consent, and only for customers in a segment.
-- marketing_opt_in is FALSE when unknown: without recorded consent nothing is exported.
WITH segmented AS (
  SELECT customer_id FROM segments.customer_segments
  UNION DISTINCT
  SELECT customer_id FROM segments.rfm
)
SELECT
  s.customer_id,
  c.email,
  c.first_name,
  c.last_name,
  COALESCE(c.marketing_opt_in, FALSE) AS marketing_opt_in
FROM segmented AS s
LEFT JOIN ingest.customers AS c ON c.customer_id = s.customer_id
