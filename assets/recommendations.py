"""v2 recommendations: weights learned on the last month, then every candidate scored.

The candidate and v1 tables are SQL models (``sql/recommendations/``); this asset fits
the fusion (``analytics_pipeline.models.recs``) on candidates as of 30 days ago and the
purchases since, and writes the scored top candidates with each signal's contribution.
"""

from collections.abc import Iterator

import dagster as dg

from analytics_pipeline.recommendations.build import publish_v2
from analytics_pipeline.resources import ClockResource, WarehouseResource

V2_KEYS = [dg.AssetKey(["recommendations", name])
           for name in ("v2_scores", "v2_model", "v2_calibration")]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key, group_name="recommendations",
            deps=[dg.AssetKey(["recommendations", "candidates"]),
                  dg.AssetKey(["ingest", "sales_lines"])],
            description=text,
        )
        for key, text in zip(V2_KEYS, (
            "v2 top candidates per customer: calibrated confidence and each signal's share.",
            "v2 signal weights learned on the last 30 days (on standardized features).",
            "v2 calibration curve: uncalibrated score to purchase probability.",
        ), strict=True)
    ],
)
def v2_recommendations(
    warehouse: WarehouseResource, clock: ClockResource
) -> Iterator[dg.MaterializeResult[None]]:
    with warehouse.open() as wh:
        model, rows = publish_v2(wh, clock.now(), clock.store_timezone)
    metadata: dict[str, dg.RawMetadataValue] = {"dagster/row_count": rows}
    if model is None:
        metadata["note"] = "too little purchase history to learn from: cold start only"
    else:
        metadata["weights"] = {
            name: round(float(w), 4) for name, w in zip(model.features, model.weights,
                                                        strict=True)}
    yield dg.MaterializeResult(asset_key=V2_KEYS[0], metadata=metadata)
    for key in V2_KEYS[1:]:
        yield dg.MaterializeResult(asset_key=key)
