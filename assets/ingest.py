"""Raw tables: the source's contract tables, validated, upserted and quarantined.

They come after the Lightspeed sync (``assets/lightspeed.py``), which is what fills the
source in production.
"""


from collections.abc import Iterator

import dagster as dg

from analytics_pipeline.assets.lightspeed import SYNC_KEY
from analytics_pipeline.contract.schema import TABLES
from analytics_pipeline.ingest.load import TableLoad, load_source, record_live_watermark
from analytics_pipeline.resources import ClockResource, SourceResource, WarehouseResource

RAW_KEYS = {t.name: dg.AssetKey(["ingest", t.name]) for t in TABLES}
QUARANTINE_KEY = dg.AssetKey(["ingest", "quarantine"])


@dg.multi_asset(
    name="ingest_source",
    group_name="ingest",
    specs=[
        *(
            dg.AssetSpec(key, deps=[SYNC_KEY],
                         description=f"Contract table {name}, validated and upserted by key.")
            for name, key in RAW_KEYS.items()
        ),
        dg.AssetSpec(QUARANTINE_KEY, deps=[SYNC_KEY],
                     description="Rows that broke the contract, with reasons."),
    ],
)
def ingest_source(
    context: dg.AssetExecutionContext,
    source: SourceResource,
    warehouse: WarehouseResource,
    clock: ClockResource,
) -> Iterator[dg.MaterializeResult[None]]:
    """Load every contract table the source offers (all at once: lines need their orders).

    Live orders go first so that the export, when it has the same order, has the last word.
    """
    with warehouse.open() as wh:
        live = source.live_orders()
        if live is not None:
            load_source(live, wh, clock.now(), primary=False)
        report = load_source(source.source(), wh, clock.now())
        record_live_watermark(wh, live.watermark if live else 0, clock.now())
    for name in report.missing:
        context.log.warning(f"no {name} table in the source: features that need it are off")
    for name, key in RAW_KEYS.items():
        yield dg.MaterializeResult(asset_key=key, metadata=_metadata(report.tables[name]))
    yield dg.MaterializeResult(
        asset_key=QUARANTINE_KEY,
        metadata={
            "quarantined_this_run": sum(t.rows_quarantined for t in report.tables.values()),
            **{f"quarantined_{t.table}": t.rows_quarantined for t in report.tables.values()},
            "placeholder_products_added": report.placeholder_products,
        },
    )


def _metadata(load: TableLoad) -> dict[str, dg.MetadataValue | str | int]:
    if load.origin is None:
        return {"note": "not in the source; features that need it are off",
                "dagster/row_count": load.rows_in_table}
    return {
        "origin": load.origin,
        "rows_read": load.rows_read,
        "rows_quarantined": load.rows_quarantined,
        "dagster/row_count": load.rows_in_table,
    }
