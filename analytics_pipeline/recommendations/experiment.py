"""The running v1-vs-v2 experiment: which arm a customer sees, and cheap exposure logging.

``log_exposure`` sits on the recommendation GET path (p99 target 15 ms), so it only
appends to an in-memory buffer; a background thread writes the buffer to the
:class:`FeedbackStore` every ``flush_seconds`` and once more on :meth:`Experiment.close`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Literal

from analytics_pipeline.models.ab_test import in_treatment
from analytics_pipeline.recommendations.feedback_store import Exposure, FeedbackStore
from analytics_pipeline.settings import Settings

Arm = Literal["v1", "v2"]
ARMS: tuple[Arm, Arm] = ("v1", "v2")

log = logging.getLogger(__name__)


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Experiment:
    """Sticky assignment of customers to v1 (control) or v2 (treatment).

    Parameters
    ----------
    name
        Experiment name, hashed with the customer id.
    v2_share
        Share of customers in v2.
    store
        Where exposures are written.
    flush_seconds
        Time between background writes of buffered exposures.
    clock
        ISO-8601 UTC "now" for exposure times (tests and simulations pass their own).
    """

    def __init__(self, name: str, v2_share: float, store: FeedbackStore,
                 flush_seconds: float = 1.0, clock: Callable[[], str] = _utc_now) -> None:
        self.name = name
        self.v2_share = v2_share
        self.store = store
        self._clock = clock
        self._buffer: list[Exposure] = []
        self._lock = threading.Lock()
        # Held for a whole flush: a flush that finds the buffer already taken by one still
        # writing waits for it, so every exposure logged before flush() returns is stored
        # (the A/B readout flushes, then reads).
        self._writing = threading.Lock()
        self._stop = threading.Event()
        self._flush_seconds = flush_seconds
        # Started by the first exposure, so apps built only for tests or the CLI own no
        # thread they never use.
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Experiment:
        recs = settings.recommendations
        store = FeedbackStore(recs.feedback_db_path(settings.data_dir))
        return cls(recs.experiment_name, recs.v2_share, store, recs.exposure_flush_seconds)

    def arm_for(self, customer_id: str) -> Arm:
        """The customer's arm: the same in every process and on every call."""
        return "v2" if in_treatment(self.name, customer_id, self.v2_share) else "v1"

    def log_exposure(self, customer_id: str, arm: Arm, product_ids: Sequence[str]) -> None:
        """Record that ``customer_id`` was shown ``product_ids`` from ``arm`` (buffered)."""
        exposure = Exposure(customer_id, arm, tuple(product_ids), self._clock())
        with self._lock:
            self._buffer.append(exposure)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._flush_loop, name="exposure-flush",
                                                daemon=True)
                self._thread.start()

    def flush(self) -> int:
        """Write buffered exposures now; returns how many this call wrote."""
        with self._writing:
            with self._lock:
                pending, self._buffer = self._buffer, []
            if pending:
                try:
                    self.store.add_exposures(self.name, pending)
                except Exception:
                    with self._lock:
                        self._buffer[:0] = pending  # kept for the next attempt, in order
                    raise
            return len(pending)

    def close(self) -> None:
        """Stop the background writer and write what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()

    def _flush_loop(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            try:
                self.flush()
            except Exception:
                # A locked or full disk must not kill the writer: the batch stays
                # buffered and the next flush tries again.
                log.exception("could not write recommendation exposures")
