"""The daily value receipt: what today's tables are worth, written to the warehouse.

Stored as a table (``receipts.value_receipt``, Markdown and HTML side by side) rather than
as files: the API on Cloud Run does not share a disk with the job that runs the pipeline,
but both reach the warehouse, and the snapshot publishes the table with the rest.
"""

from datetime import UTC, datetime

import dagster as dg
import pyarrow as pa

from analytics_pipeline.receipts import ReceiptInputs, build_receipt, receipt_figures
from analytics_pipeline.receipts.experiment import experiment_readout
from analytics_pipeline.resources import ClockResource, ModelParamsResource, WarehouseResource
from analytics_pipeline.settings import Settings

RECEIPT_KEY = dg.AssetKey(["receipts", "value_receipt"])
RECEIPT_SCHEMA = pa.schema([
    ("as_of", pa.timestamp("us", tz="UTC")), ("generated_at", pa.timestamp("us", tz="UTC")),
    ("currency", pa.string()), ("markdown", pa.string()), ("html", pa.string()),
])
READS = (["inventory", "reorder_suggestions"], ["inventory", "alerts"], ["ingest", "products"],
         ["ingest", "inventory"], ["segments", "customer_segments"])


def receipt_asset(settings: Settings) -> dg.AssetsDefinition:
    """The receipt asset: amounts in ``settings.currency``, the A/B readout of the
    experiment ``settings.recommendations`` names."""
    currency = settings.currency

    @dg.asset(key=RECEIPT_KEY, group_name="receipts", deps=[dg.AssetKey(k) for k in READS],
              description="Today's value receipt: revenue at risk from stockouts and the "
                          "reorder that prevents it, cash in overstock, CLV of at-risk "
                          "customers, measured recommendation lift (Markdown and HTML).")
    def _receipt(
        warehouse: WarehouseResource, clock: ClockResource, model_params: ModelParamsResource
    ) -> dg.MaterializeResult[None]:
        config = model_params.clv_config()
        inputs = ReceiptInputs(config.horizon_days, config.annual_discount_rate,
                               experiment_readout(settings))
        with warehouse.open() as wh:
            receipt = build_receipt(receipt_figures(wh, inputs), clock.now(), currency)
            row = {"as_of": receipt.as_of, "generated_at": datetime.now(UTC),
                   "currency": currency, "markdown": receipt.markdown, "html": receipt.html}
            table = pa.Table.from_pylist([row], schema=RECEIPT_SCHEMA)
            wh.load_arrow("receipts", "value_receipt", table.to_reader())
        left_out = [f.key for f in receipt.figures if f.value is None]
        return dg.MaterializeResult(metadata={
            "dagster/row_count": 1, "receipt": dg.MetadataValue.md(receipt.markdown),
            "left_out": ", ".join(left_out) or "none",
        })

    return _receipt
