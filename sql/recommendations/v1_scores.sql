-- v1, the control arm: item-to-item co-occurrence from purchase history alone. A
-- product's score for a customer is its summed similarity to what the customer bought up
-- to as_of (recommendations.co_purchase, which already leaves out products they own
-- unless repeat-purchase, and lapsed customers). Top 20 per customer.
SELECT
  customer_id,
  product_id,
  CAST(ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY similarity DESC, product_id)
    AS BIGINT) AS rank,
  CAST(similarity AS DOUBLE) AS score
FROM recommendations.co_purchase
QUALIFY rank <= 20
