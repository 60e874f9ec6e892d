"""Metrics the Dagster runs leave behind, read when Prometheus scrapes the API.

Runs are batch jobs (a Cloud Run job at 06:00) that end before anyone could scrape them,
and Cloud Run has no Pushgateway. So a run writes what it measured where the API already
looks: step durations go to ``ops.step_durations`` in the warehouse (published with the
snapshot), deliveries are rows in the notify outbox. This collector turns both into
series on ``/metrics`` at scrape time; nothing is kept in the API process.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from analytics_pipeline.notify.outbox import Outbox
from analytics_pipeline.serving.readers import Reader
from analytics_pipeline.serving.snapshot import SnapshotMissingError

DURATIONS_SQL = """SELECT step_key, status, seconds, finished_at
                   FROM ops.step_durations ORDER BY step_key"""


class PipelineCollector(Collector):
    """Materialization durations of the latest published run and alert deliveries."""

    def __init__(self, reader: Reader, outbox_path: Path) -> None:
        self._reader = reader
        self._outbox_path = outbox_path

    def collect(self) -> Iterator[Metric]:
        yield from self._durations()
        yield from self._deliveries()

    def _durations(self) -> Iterator[Metric]:
        seconds = GaugeMetricFamily(
            "pipeline_step_duration_seconds",
            "Seconds each step (asset or check) of the latest published run took",
            labels=["step", "status"])
        finished = GaugeMetricFamily(
            "pipeline_last_run_finished_timestamp_seconds",
            "When the last step of the latest published run finished (Unix time)")
        try:
            rows = (self._reader.fetch(DURATIONS_SQL)
                    if self._reader.has_table("ops", "step_durations") else [])
        except SnapshotMissingError:
            rows = []
        for step, status, spent, _ended in rows:
            seconds.add_metric([str(step), str(status)], float(str(spent)))
        ends = [row[3] for row in rows if isinstance(row[3], datetime)]
        if ends:
            finished.add_metric([], max(ends).timestamp())
        yield seconds
        yield finished

    def _deliveries(self) -> Iterator[Metric]:
        deliveries = CounterMetricFamily(
            "alert_deliveries", "Alert messages delivered, and failed delivery attempts",
            labels=["channel", "result"])
        waiting = GaugeMetricFamily(
            "alert_messages_waiting", "Alert messages in the outbox not yet delivered",
            labels=["channel"])
        # The outbox is created by the first alert run; a scrape must not create it.
        if self._outbox_path.exists():
            for channel, (sent, failed, left) in Outbox(self._outbox_path).deliveries().items():
                deliveries.add_metric([channel, "sent"], sent)
                deliveries.add_metric([channel, "failed"], failed)
                waiting.add_metric([channel], left)
        yield deliveries
        yield waiting
