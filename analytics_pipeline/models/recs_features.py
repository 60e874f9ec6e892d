"""The v2 recommendation signals, one feature each (``sql/recommendations/candidates.sql``).

Their own module: the API names them when it explains a recommendation, and importing
the model (:mod:`analytics_pipeline.models.recs`) would load scikit-learn, which added
0.7 s to the service's start.
"""

FEATURES: tuple[str, ...] = (
    "co_purchase", "co_purchase_vs_best", "cross_sell", "category_affinity",
    "category_affinity_vs_best", "category_popularity", "content", "content_category",
    "cart_abandoned", "viewed", "similar_views", "similar_views_vs_best", "trend", "season",
    "popularity", "repurchase",
)
