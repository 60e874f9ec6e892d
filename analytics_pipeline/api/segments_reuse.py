"""Which ``segments`` tables a refresh may keep as they are (DuckDB warehouse).

A refresh must leave the same tables as a full rebuild with the same inputs and
settings, so a table is kept only when nothing it is made of changed:

* a model reading no settings (``clv_inputs``, ``category_affinity``,
  ``segment_members``) and no table the refresh rebuilds is kept as the last pipeline
  run left it: its inputs are that run's;
* a model reading settings (``customer_clv``: the CLV settings; ``segment_history`` and,
  through it, ``segment_performance`` and ``segment_migration``: the segment thresholds)
  is kept when the fingerprint of what made it (its SQL or CLV configuration, the values
  of the settings it reads and the content digests of the segments tables it reads)
  equals the one recorded in ``segments.refresh_state`` when it was last built *and* its
  own content digest is still the recorded one. A pipeline run that rewrote the table
  (perhaps with other settings) changes its digest, so the first refresh after a run
  rebuilds it.

Digests are :func:`~analytics_pipeline.serving.snapshot.table_digest`, computed once per
refresh (the republication compares the same tables with what the snapshot holds).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from analytics_pipeline.serving.snapshot import TableDigests
from analytics_pipeline.warehouse import DuckDBWarehouse

STATE_TABLE = "segments.refresh_state"
# The run's own parameters: the refresh uses the published run's values, like the run.
_RUN_PARAMS = frozenset({"as_of", "store_tz"})
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
# Raw and revenue tables change only with a pipeline run, and that run rebuilds every
# segments table after them, which moves the kept table's own digest (checked by keep)
# whenever its content changes. Digesting them too would cost more than it checks: the
# ten-million-row revenue.customer_orders alone took 1.4 s of a 1M-customer refresh.
_UNDIGESTED_DOMAINS = frozenset({"ingest", "revenue"})


def reads_settings(query: str) -> bool:
    """Whether ``query`` takes any parameter other than the run's as_of and time zone."""
    return bool(set(_PARAM.findall(query)) - _RUN_PARAMS)


class ReusePlan:
    """The recorded state of the ``segments`` tables, consulted model by model."""

    def __init__(self, warehouse: DuckDBWarehouse, values: Mapping[str, object],
                 digests: TableDigests) -> None:
        self._wh = warehouse
        self._values = values
        self._digests = digests
        self._recorded: dict[str, tuple[str, str]] = {}
        self._pending: dict[str, str] = {}
        self.rebuilt: set[str] = set()
        if warehouse.table_exists("segments", "refresh_state"):
            self._recorded = {str(m): (str(f), str(d)) for m, f, d in warehouse.fetch_all(
                f"SELECT model, fingerprint, digest FROM {STATE_TABLE}")}  # noqa: S608

    def keep(self, name: str, recipe: str, reads: Iterable[tuple[str, str]],
             configured: bool) -> bool:
        """Whether ``segments.<name>`` made by ``recipe`` from ``reads`` may stay.

        ``recipe`` is what makes the table beside its inputs (the SQL, or the model
        configuration) and ``configured`` whether it depends on settings. A ``False``
        answer means the caller rebuilds the table and then calls :meth:`built`.
        """
        reads = sorted(reads)
        if not self._wh.table_exists("segments", name) or any(
                t in self.rebuilt for d, t in reads if d == "segments"):
            return False
        if not configured:
            return True
        fingerprint = self._fingerprint(recipe, reads)
        self._pending[name] = fingerprint
        recorded = self._recorded.get(name)
        return recorded is not None and recorded == (fingerprint, self._digest("segments", name))

    def built(self, name: str, recipe: str, reads: Iterable[tuple[str, str]],
              configured: bool) -> None:
        """Note that ``segments.<name>`` was just rebuilt (its state is saved by :meth:`save`)."""
        self.rebuilt.add(name)
        self._digests.forget(f"segments.{name}")
        if configured:
            self._pending[name] = self._fingerprint(recipe, sorted(reads))
        else:
            self._pending.pop(name, None)

    def save(self) -> None:
        """Record the fingerprints and digests of the settings-dependent tables."""
        rows = [(name, fingerprint, self._digest("segments", name))
                for name, fingerprint in sorted(self._pending.items())]
        self._wh.execute(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} "
                         "(model VARCHAR PRIMARY KEY, fingerprint VARCHAR, digest VARCHAR)")
        for name, fingerprint, digest in rows:
            self._wh.execute(
                f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES ($m, $f, $d)",  # noqa: S608
                {"m": name, "f": fingerprint, "d": digest})

    def _fingerprint(self, recipe: str, reads: list[tuple[str, str]]) -> str:
        used = sorted(set(_PARAM.findall(recipe)))
        parts = [recipe, *(f"{p}={self._values.get(p)!r}" for p in used)]
        parts += [f"{d}.{t}:{self._digest(d, t)}" for d, t in reads
                  if d not in _UNDIGESTED_DOMAINS]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def _digest(self, domain: str, table: str) -> str:
        return self._digests.of(f"{domain}.{table}")
