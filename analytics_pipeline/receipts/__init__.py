"""Value receipts: what the platform found today, in money, each figure with its method."""

from analytics_pipeline.receipts.figures import Figure, ReceiptInputs, receipt_figures
from analytics_pipeline.receipts.render import Receipt, build_receipt

__all__ = ["Figure", "Receipt", "ReceiptInputs", "build_receipt", "receipt_figures"]
