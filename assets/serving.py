"""Publishing: the last step of a run makes its tables visible to the API at once."""

from collections.abc import Sequence

import dagster as dg

from analytics_pipeline.resources import ClockResource, ServingResource, WarehouseResource
from analytics_pipeline.serving.bigquery_reader import publish_bigquery
from analytics_pipeline.serving.snapshot import publish_snapshot
from analytics_pipeline.warehouse import DuckDBWarehouse
from analytics_pipeline.warehouse.bigquery_warehouse import BigQueryWarehouse

SNAPSHOT_KEY = dg.AssetKey(["serving", "snapshot"])


def snapshot_asset(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The snapshot asset, downstream of every table so it runs when all are fresh."""

    @dg.asset(key=SNAPSHOT_KEY, group_name="serving", deps=list(upstream),
              description="What the API reads: a DuckDB snapshot file, or on BigQuery the "
                          "list of served tables and a new manifest.")
    def _snapshot(
        warehouse: WarehouseResource, serving: ServingResource, clock: ClockResource
    ) -> dg.MaterializeResult[None]:
        with warehouse.open() as wh:
            (watermark,) = wh.fetch_all("SELECT max(watermark) FROM ingest.live_watermark")[0]
            if isinstance(wh, BigQueryWarehouse):
                served = publish_bigquery(wh, clock.now(), int(str(watermark or 0)))
                return dg.MaterializeResult(metadata={"served_tables": served})
            assert isinstance(wh, DuckDBWarehouse)  # noqa: S101 - the two warehouse kinds
            path = publish_snapshot(wh, serving.serving_path(), clock.now(),
                                    int(str(watermark or 0)))
        return dg.MaterializeResult(metadata={"path": str(path)})

    return _snapshot
