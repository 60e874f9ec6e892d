"""Exposure logging, the feedback store and the feedback/performance endpoints."""

from __future__ import annotations

import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from analytics_pipeline.api.app import create_app
from analytics_pipeline.models.ab_test import sequential_test
from analytics_pipeline.recommendations.experiment import Experiment
from analytics_pipeline.recommendations.feedback_store import (
    Exposure,
    FeedbackEvent,
    FeedbackStore,
    Outcome,
)
from analytics_pipeline.recommendations.performance import performance
from analytics_pipeline.settings import Settings
from analytics_pipeline.settings.recommendations import RecommendationSettings

KEYS = "reader=read,writer=read+write"
WRITE = {"Authorization": "Bearer writer"}
READ = {"Authorization": "Bearer reader"}


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "recs.sqlite")


def _clock(*times: str) -> Iterator[str]:
    yield from times


def test_exposures_are_buffered_then_written_on_close(store: FeedbackStore) -> None:
    times = _clock("2026-03-01T10:00:00.000+00:00", "2026-03-02T10:00:00.000+00:00")
    exp = Experiment("exp", 0.5, store, flush_seconds=60, clock=lambda: next(times))
    exp.log_exposure("c1", exp.arm_for("c1"), ["p1", "p2"])
    exp.log_exposure("c1", exp.arm_for("c1"), ["p3"])
    assert store.outcomes("exp") == []
    exp.close()
    assert store.outcomes("exp") == [Outcome("c1", exp.arm_for("c1"), "2026-03-01", None, 0.0)]
    assert store.exposure_counts("exp") == {exp.arm_for("c1"): 2}


def test_an_earlier_exposure_flushed_later_by_another_process_wins(store: FeedbackStore) -> None:
    store.add_exposures("exp", [Exposure("c1", "v1", ["p1"], "2026-03-05T10:00:00.000+00:00")])
    store.add_exposures("exp", [Exposure("c1", "v1", ["p1"], "2026-03-04T10:00:00.000+00:00")])
    store.add_exposures("exp", [Exposure("c1", "v1", ["p1"], "2026-03-06T10:00:00.000+00:00")])
    assert [r.exposed_day for r in store.outcomes("exp")] == ["2026-03-04"]


def test_a_flush_waits_for_one_already_writing(store: FeedbackStore) -> None:
    # The readout flushes, then reads: a flush that finds the buffer taken by the
    # background writer must not return before that write is stored.
    writing, release = threading.Event(), threading.Event()
    write = store.add_exposures

    def slow_write(experiment: str, exposures: Sequence[Exposure]) -> None:
        writing.set()
        assert release.wait(5)
        write(experiment, exposures)

    store.add_exposures = slow_write  # type: ignore[method-assign]
    exp = Experiment("exp", 0.5, store, flush_seconds=60)
    exp.log_exposure("c1", "v1", ["p1"])
    background = threading.Thread(target=exp.flush)
    background.start()
    assert writing.wait(5)
    stored_when_done: list[int] = []

    def flush_then_count() -> None:
        exp.flush()
        stored_when_done.append(sum(store.exposure_counts("exp").values()))

    reader = threading.Thread(target=flush_then_count)
    reader.start()
    reader.join(0.2)
    assert reader.is_alive()  # waiting for the write in flight
    release.set()
    background.join(5)
    reader.join(5)
    assert stored_when_done == [1]
    exp.close()


def test_the_background_writer_flushes_without_close(store: FeedbackStore) -> None:
    exp = Experiment("exp", 0.5, store, flush_seconds=0.05)
    exp.log_exposure("c1", "v1", ["p1"])
    deadline = time.monotonic() + 5
    while not store.outcomes("exp") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(store.outcomes("exp")) == 1
    exp.close()


def test_a_failed_write_keeps_the_exposures_for_the_next_flush(
    store: FeedbackStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = Experiment("exp", 0.5, store, flush_seconds=60)
    exp.log_exposure("c1", "v1", ["p1"])
    write = store.add_exposures

    def locked(*_args: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store, "add_exposures", locked)
    with pytest.raises(sqlite3.OperationalError):
        exp.flush()
    exp.log_exposure("c2", "v2", ["p1"])
    monkeypatch.setattr(store, "add_exposures", write)
    assert exp.flush() == 2
    assert [r.customer_id for r in store.outcomes("exp")] == ["c1", "c2"]
    exp.close()


def test_logging_an_exposure_costs_microseconds(store: FeedbackStore) -> None:
    exp = Experiment("exp", 0.5, store, flush_seconds=60)
    timings = []
    for i in range(2_000):
        start = time.perf_counter()
        exp.log_exposure(f"c{i}", exp.arm_for(f"c{i}"), ["p1", "p2", "p3"])
        timings.append(time.perf_counter() - start)
    exp.close()
    assert statistics.median(timings) < 1e-4
    assert sum(store.exposure_counts("exp").values()) == 2_000


def test_only_purchases_after_the_first_exposure_count(store: FeedbackStore) -> None:
    exp = Experiment("exp", 0.5, store, clock=lambda: "2026-03-02T00:00:00.000+00:00")
    exp.log_exposure("c1", "v2", ["p1"])
    exp.close()
    for event_id, at in (("before", "2026-03-01T12:00:00.000+00:00"),
                         ("after", "2026-03-03T12:00:00.000+00:00")):
        assert store.add_feedback("exp", FeedbackEvent(event_id, "c1", "v2", "purchase", "p1",
                                                       at, "10.50"))
    assert not store.add_feedback("exp", FeedbackEvent("after", "c1", "v2", "purchase", "p1",
                                                       "2026-03-03T12:00:00.000+00:00", "10.50"))
    assert store.outcomes("exp") == [Outcome("c1", "v2", "2026-03-02", "2026-03-03", 10.5)]


def test_another_process_sees_the_events_and_a_resend_there_counts_once(
    store: FeedbackStore,
) -> None:
    event = FeedbackEvent("e1", "c1", "v1", "click", "p1", "2026-03-03T12:00:00.000+00:00")
    assert store.add_feedback("exp", event)
    script = ("import sys\nfrom analytics_pipeline.recommendations.feedback_store import "
              "FeedbackEvent, FeedbackStore\nfrom pathlib import Path\n"
              "s = FeedbackStore(Path(sys.argv[1]))\n"
              "print(s.add_feedback('exp', FeedbackEvent('e1', 'c1', 'v1', 'click', 'p1', 'x')),"
              " s.add_feedback('exp', FeedbackEvent('e2', 'c1', 'v1', 'click', 'p1', 'x')))")
    out = subprocess.run([sys.executable, "-c", script, str(store.path)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["False", "True"]
    assert store.event_counts("exp") == {("v1", "click"): 2}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings.from_env({"ANALYTICS_RECS_EXPERIMENT": "test-exp"},
                                 warehouse_url=f"duckdb:///{tmp_path}/w.duckdb", api_keys=KEYS)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _event(event_id: str, customer: str, kind: str = "purchase",
           value: str = "20") -> dict[str, str]:
    return {"event_id": event_id, "customer_id": customer, "product_id": "P1",
            "event_type": kind, "occurred_at": "2030-01-01T12:00:00Z", "value": value}


def test_feedback_posted_twice_counts_once(client: TestClient) -> None:
    experiment: Experiment = client.app.state.experiment  # type: ignore[attr-defined]
    experiment.log_exposure("c1", experiment.arm_for("c1"), ["P1"])
    first = client.post("/api/recommendations/v2/feedback", json=_event("e1", "c1"),
                        headers=WRITE)
    again = client.post("/api/recommendations/v2/feedback", json=_event("e1", "c1"),
                        headers=WRITE)
    assert (first.status_code, first.json()["result"]) == (201, "created")
    assert (again.status_code, again.json()["result"]) == (200, "duplicate")
    assert first.json()["arm"] == experiment.arm_for("c1")
    report = client.get("/api/recommendations/v2/performance", headers=READ).json()
    arm = next(a for a in report["arms"] if a["arm"] == experiment.arm_for("c1"))
    assert arm["events"]["purchase"] == 1
    assert (arm["exposed_customers"], arm["converted_customers"], arm["revenue"]) == (1, 1, 20.0)


@pytest.mark.parametrize(("field", "value"), [
    ("event_type", "like"), ("occurred_at", "soon"), ("occurred_at", "0001-01-01T00:00:00+01:00"),
    ("value", "-1"), ("value", "NaN"), ("event_id", ""), ("customer_id", " padded "),
])
def test_a_malformed_event_is_422_naming_the_field(client: TestClient, field: str,
                                                   value: str) -> None:
    body = {**_event("e2", "c1"), field: value}
    response = client.post("/api/recommendations/v2/feedback", json=body, headers=WRITE)
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == [field]


def test_feedback_needs_the_write_scope(client: TestClient) -> None:
    response = client.post("/api/recommendations/v2/feedback", json=_event("e3", "c1"),
                           headers=READ)
    assert response.status_code == 403


def test_performance_of_an_empty_experiment_is_a_readout_not_an_error(client: TestClient) -> None:
    response = client.get("/api/recommendations/v2/performance", headers=READ)
    assert response.status_code == 200
    report = response.json()
    assert [a["exposed_customers"] for a in report["arms"]] == [0, 0]
    assert report["conversion"] is None
    assert report["sequential"]["decision"] == "continue"
    assert report["sample_ratio"]["mismatch"] is False


def test_performance_reports_lift_click_through_and_the_split(client: TestClient) -> None:
    experiment: Experiment = client.app.state.experiment  # type: ignore[attr-defined]
    customers = [f"c{i}" for i in range(400)]
    for customer in customers:
        experiment.log_exposure(customer, experiment.arm_for(customer), ["P1"])
    # v2 customers: every 3rd buys; v1: every 6th; everyone got an impression, some clicked.
    for i, customer in enumerate(customers):
        arm = experiment.arm_for(customer)
        client.post("/api/recommendations/v2/feedback", headers=WRITE,
                    json=_event(f"i{i}", customer, "impression", "0"))
        if i % (3 if arm == "v2" else 6) == 0:
            client.post("/api/recommendations/v2/feedback", headers=WRITE,
                        json=_event(f"p{i}", customer))
            client.post("/api/recommendations/v2/feedback", headers=WRITE,
                        json=_event(f"c{i}", customer, "click", "0"))
    report = client.get("/api/recommendations/v2/performance", headers=READ).json()
    v1, v2 = report["arms"]
    assert v1["exposed_customers"] + v2["exposed_customers"] == 400
    assert v2["conversion_rate"] == pytest.approx(
        v2["converted_customers"] / v2["exposed_customers"])
    assert v2["click_through_rate"] == pytest.approx(
        v2["events"]["click"] / v2["events"]["impression"])
    assert report["conversion"]["relative_lift"] == pytest.approx(
        v2["conversion_rate"] / v1["conversion_rate"] - 1)
    assert report["conversion"]["relative_lift"] > 0.5
    assert report["revenue_per_exposed_customer"]["treatment"] == pytest.approx(
        v2["revenue_per_exposed_customer"], abs=1e-4)
    assert not report["sample_ratio"]["mismatch"]
    assert report["conversion_source"].startswith("purchase feedback")


def test_the_sequential_test_looks_once_per_day_at_cumulative_counts(
    store: FeedbackStore,
) -> None:
    rng = np.random.default_rng(2)
    settings = RecommendationSettings(experiment_name="exp")
    day = ["2026-04-01T09:00:00.000+00:00"]
    exp = Experiment("exp", 0.5, store, clock=lambda: day[0])
    first: dict[str, tuple[str, int]] = {}
    bought: dict[str, int] = {}
    for i in range(3_000):
        customer, d = f"c{i}", int(rng.integers(0, 5))
        day[0] = f"2026-04-{d + 1:02d}T09:00:00.000+00:00"
        first[customer] = (exp.arm_for(customer), d)
        exp.log_exposure(customer, exp.arm_for(customer), ["p1"])
        if rng.random() < (0.3 if first[customer][0] == "v2" else 0.2):
            bought[customer] = d + int(rng.integers(0, 2))
            store.add_feedback("exp", FeedbackEvent(
                f"p{i}", customer, exp.arm_for(customer), "purchase", "p1",
                f"2026-04-{bought[customer] + 1:02d}T18:00:00.000+00:00", "5"))
    exp.close()
    report = performance(store, settings)
    counts: list[list[int]] = [[], [], [], []]
    for look in range(6):
        for k, arm in enumerate(("v1", "v2")):
            mine = [c for c, (a, _) in first.items() if a == arm]
            counts[2 * k].append(sum(c in bought and bought[c] <= look for c in mine))
            counts[2 * k + 1].append(sum(first[c][1] <= look for c in mine))
    expected = sequential_test(counts[0], counts[1], counts[2], counts[3], settings.mixture_sd,
                               settings.alpha)
    assert report.days == 6
    assert report.sequential == expected
    assert report.arms[1].converted_customers == counts[2][-1]
