"""``analytics-pipeline backtest alerts``: replay the alert rules day by day and score them.

Each replayed day is an as_of: the rules see only the history up to the end of that day
(:meth:`DemandPanel.until`) and a forecast fitted on it. Forecasts are refitted every
``refit_days``: daily by default, as the 06:00 refresh rebuilds them before the alerts (a
week-old forecast misses the last days' moves, which production does not). With a longer
period the latest fit is used on the days between, so no day sees a forecast made after
it. The claims are then checked against what happened next
(:mod:`analytics_pipeline.models.backtest`), and the forecasts at each refit against the
next 28 days' demand, next to a seasonal-naive forecast (same weekday last week) scored
the same way.

Truth is the generator's (``daily_demand`` and ``stockout_days`` in its truth folder) or,
for real data, the sales of days in stock (out-of-stock days left unscored).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics_pipeline.inventory.tables import HISTORY_SQL, category_codes, read_products
from analytics_pipeline.models import backtest as score
from analytics_pipeline.models.alerts import alert_masks, low_stock_candidates
from analytics_pipeline.models.demand_panel import BoolArray, DemandPanel, FloatArray, IntArray
from analytics_pipeline.models.forecast import Forecast, ForecastConfig, forecast_demand
from analytics_pipeline.models.inventory_policy import InventoryPolicy
from analytics_pipeline.models.stock_position import StockPosition, stock_position
from analytics_pipeline.warehouse import Warehouse


@dataclass(frozen=True)
class Truth:
    """What happened, on the panel's calendar: ``(days, products)``."""

    demand: FloatArray
    stockout: BoolArray
    source: str


def generator_truth(truth_dir: Path, panel: DemandPanel) -> Truth:
    """The generator's true demand (lost sales included) and stockout days."""
    demand = _read(truth_dir, "daily_demand")
    out = _read(truth_dir, "stockout_days")
    index, columns = panel.days, list(panel.product_ids)
    matrix = (demand.assign(date=pd.to_datetime(demand["date"]))
              .pivot_table(index="date", columns="product_id", values="demand_units")
              .reindex(index=index, columns=columns).to_numpy(dtype=np.float64))
    stockout = np.zeros(matrix.shape, dtype=bool)
    row = index.get_indexer(pd.DatetimeIndex(pd.to_datetime(out["date"])))
    col = pd.Index(columns).get_indexer(pd.Index(out["product_id"].astype(str)))
    keep = (row >= 0) & (col >= 0)
    stockout[row[keep], col[keep]] = True
    return Truth(matrix, stockout, f"generator ground truth ({truth_dir})")


def observed_truth(panel: DemandPanel) -> Truth:
    """Sales as demand on days in stock (unknown on days out of stock)."""
    demand = np.where(panel.out_of_stock, np.nan, panel.units)
    return Truth(demand, panel.out_of_stock.copy(), "observed sales (days in stock)")


def _read(folder: Path, name: str) -> pd.DataFrame:
    for suffix, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv)):
        path = folder / f"{name}{suffix}"
        if path.exists():
            return reader(path)
    raise FileNotFoundError(f"{folder} has no {name}.csv or {name}.parquet")


@dataclass
class BacktestReport:
    """Scores of one replay (``to_dict`` for JSON, ``to_text`` for people)."""

    first_day: dt.date
    last_day: dt.date
    products: int
    truth: str
    low_stock: dict[str, Any] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    forecast: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"first_as_of": self.first_day.isoformat(), "last_as_of": self.last_day.isoformat(),
                "products": self.products, "truth": self.truth, "low_stock": self.low_stock,
                "rules": self.rules, "forecast": self.forecast,
                "seconds": round(self.seconds, 1)}

    def to_text(self) -> str:
        low, fc = self.low_stock, self.forecast
        lines = [f"backtest {self.first_day} .. {self.last_day} (daily as_of), "
                 f"{self.products} products, truth: {self.truth}",
                 f"low stock: precision {_pct(low.get('in_stock_precision'))} of the "
                 f"{low.get('in_stock_alerts')} alerts raised with stock on hand, "
                 f"{_pct(low.get('precision'))} of all {low.get('alerts')} (those raised "
                 f"when already out are right by definition); recall "
                 f"{_pct(low.get('recall'))} ({low.get('caught')}/{low.get('stockouts')} "
                 f"stockouts alerted {low.get('notice_days')}+ days ahead)"]
        lines.append("  had alert_confidence been: " + ", ".join(
            f"{row['alert_confidence']:.2f} -> {_pct(row['in_stock_precision'])} / "
            f"{_pct(row['recall'])}" for row in low.get("by_confidence", [])))
        lines.append("  shelves given a chance of ... emptied: " + ", ".join(
            f"{row['from']:.0%}-{row['to']:.0%}: {row['emptied']:.0%} of {row['cells']}"
            for row in low.get("calibration", [])))
        for rule, figures in self.rules.items():
            lines.append(f"  {rule:<11} {figures['alerts']:>6} alerts, {figures['scored']:>6} "
                         f"scored, precision {_pct(figures['precision'])}")
        for name in ("model", "seasonal_naive"):
            f = fc.get(name, {})
            lines.append(f"forecast {name:<15} WAPE {f.get('wape', float('nan')):.3f}  MASE "
                         f"{f.get('mase', float('nan')):.3f}  80% coverage "
                         f"{_pct(f.get('coverage_80'))}  95% coverage {_pct(f.get('coverage_95'))}")
        lines.append(f"MASE ratio model / seasonal naive: {fc.get('mase_ratio', float('nan')):.3f}"
                     f" ({fc.get('origins')} origins x {fc.get('horizon')} days)")
        lines.append(f"{self.seconds:.0f} s")
        return "\n".join(lines)


def _pct(value: object) -> str:
    return "n/a" if value is None else f"{float(str(value)):.1%}"


@dataclass(frozen=True)
class BacktestConfig:
    """Replay settings: ``weeks`` of daily as_of days ending ``low_stock_days`` before the
    data ends (so every low-stock claim can be checked), refitting every ``refit_days``;
    ``notice_days``: how far ahead a stockout must be alerted to count as caught."""

    weeks: int = 12
    refit_days: int = 1
    notice_days: int = 1
    policy: InventoryPolicy = field(default_factory=InventoryPolicy)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)


def replay(
    panel: DemandPanel, products: pd.DataFrame, truth: Truth, config: BacktestConfig,
    groups: IntArray | None = None,
) -> BacktestReport:
    """Fire the rules on every as_of day of the replay window and score them."""
    started = time.perf_counter()
    window = int(config.policy.low_stock_days)
    last = len(panel.days) - 1 - window
    first = max(last - 7 * config.weeks + 1, 1)
    delivered = score.deliveries(panel.on_hand, panel.units)
    tally = _Tally(panel, truth, config, delivered)
    fitted: Forecast | None = None
    fitted_at = first
    for day in range(first, last + 1):
        if fitted is None or day - fitted_at >= config.refit_days:
            fitted, fitted_at = forecast_demand(panel.until(panel.days[day]), config.forecast,
                                                groups), day
            tally.forecast(fitted, day)
        known = panel.until(panel.days[day])
        as_of = dt.datetime.combine(panel.days[day].date(), dt.time(23, 59), tzinfo=dt.UTC)
        position = stock_position(known, _shift(fitted, day - fitted_at), products,
                                  config.policy, as_of)
        tally.alerts(position, day)
    report = BacktestReport(panel.days[first].date(), panel.days[last].date(),
                            panel.n_products, truth.source)
    tally.fill(report, first, last)
    report.seconds = time.perf_counter() - started
    return report


def _shift(forecast: Forecast, days: int) -> Forecast:
    return Forecast(forecast.first_day + pd.Timedelta(days=days), forecast.product_ids,
                    forecast.mean[days:], forecast.size, forecast.model,
                    forecast.seasonal[days:])


class _Tally:
    """Running counts of alerts, confirmations and forecast errors."""

    def __init__(self, panel: DemandPanel, truth: Truth, config: BacktestConfig,
                 delivered: FloatArray) -> None:
        self.panel, self.truth, self.config, self.delivered = panel, truth, config, delivered
        self.low_chances = score.LowStockChances.empty(*panel.units.shape)
        self.counts = {rule: [0, 0, 0] for rule in score.RULE_HORIZON_DAYS}  # alerts, scored, ok
        self.errors: dict[str, list[float]] = {}

    def alerts(self, position: StockPosition, day: int) -> None:
        masks = alert_masks(position, self.config.policy)
        self._keep_chances(position, day)
        for rule, mask in masks.items():
            horizon = score.RULE_HORIZON_DAYS[rule]
            self.counts[rule][0] += int(mask.sum())
            if day + horizon >= len(self.panel.days) or not mask.any():
                continue
            confirmed = (self.low_chances.confirmed[day] if rule == "low_stock"
                         else self._confirmed(rule, position, day, horizon))
            self.counts[rule][1] += int(mask.sum())
            self.counts[rule][2] += int((mask & confirmed).sum())

    def _keep_chances(self, position: StockPosition, day: int) -> None:
        """Every chance the low-stock rule judged today, and (when the week ahead is in
        the data) whether each shelf would have emptied."""
        chances, horizon = self.low_chances, score.RULE_HORIZON_DAYS["low_stock"]
        judged = low_stock_candidates(position, self.config.policy)
        chances.chance[day] = np.where(judged, position.stockout_chance, np.nan)
        stock = np.nan_to_num(position.on_hand)
        chances.in_stock[day] = stock > 0
        if day + horizon < len(self.panel.days):
            ahead = slice(day + 1, day + 1 + horizon)
            arrivals = score.open_order_deliveries(np.nan_to_num(self.panel.on_order[day]),
                                                   self.delivered[ahead])
            chances.confirmed[day] = score.counterfactual_stockout(stock, arrivals,
                                                                   self.truth.demand[ahead])
            chances.scored[day] = True

    def _confirmed(self, rule: str, position: StockPosition, day: int, horizon: int) -> BoolArray:
        policy, ahead = self.config.policy, slice(day + 1, day + 1 + horizon)
        demand = self.truth.demand[ahead]
        stock = np.nan_to_num(position.on_hand)
        total = np.nansum(demand, axis=0)
        if rule == "trending":
            before = np.maximum(position.units_prior_7d, position.reference_weekly)
            target = np.where(before > 0, (1 + policy.trending_growth) * before,
                              policy.min_weekly_units)
            return np.asarray(total >= target, dtype=np.bool_)
        if rule == "slow_mover":
            return np.asarray(total <= 1, dtype=np.bool_)
        if rule == "seasonal":
            cover = stock + position.orders.arrivals[:horizon].sum(axis=0)
            return np.asarray(total > cover, dtype=np.bool_)
        return np.asarray(stock > total / horizon * policy.overstock_days, dtype=np.bool_)

    def forecast(self, fitted: Forecast, day: int) -> None:
        h = len(fitted.mean)
        if day + h >= len(self.panel.days):
            return
        actual = self.truth.demand[day + 1 : day + 1 + h]
        history = self.panel.units[: day + 1]
        scale = score.seasonal_naive_scale(history)
        alive = ~np.isnan(history[-7:]).any(axis=0)
        actual = np.where(alive, actual, np.nan)
        naive = np.resize(np.nan_to_num(history[-7:]), (h, history.shape[1]))
        (m_lo80, m_hi80), (m_lo95, m_hi95) = fitted.interval(0.8), fitted.interval(0.95)
        for name, predicted, lo80, hi80, lo95, hi95 in (
            ("model", fitted.mean, m_lo80, m_hi80, m_lo95, m_hi95),
            ("seasonal_naive", naive, naive, naive, naive, naive),
        ):
            error, total, scaled = score.forecast_errors(actual, predicted, scale)
            inside80, cells = score.covered(actual, lo80, hi80)
            inside95, _ = score.covered(actual, lo95, hi95)
            for key, value in (("error", error), ("total", total), ("in80", inside80),
                               ("in95", inside95), ("cells", cells)):
                self.errors.setdefault(f"{name}:{key}", []).append(float(value))
            self.errors.setdefault(f"{name}:mase", []).extend(scaled[~np.isnan(scaled)])
        kinds = np.array([m.split("+")[0] for m in fitted.model])
        lo, hi = fitted.interval(0.8)
        for kind in np.unique(kinds):
            chosen = kinds == kind
            inside, cells = score.covered(actual[:, chosen], lo[:, chosen], hi[:, chosen])
            self.errors.setdefault(f"by_model:{kind}:in80", []).append(inside)
            self.errors.setdefault(f"by_model:{kind}:cells", []).append(cells)

    def fill(self, report: BacktestReport, first: int, last: int) -> None:
        policy = self.config.policy
        sweep = partial(score.confidence_sweep, self.low_chances, self.truth.stockout, first,
                        last, int(policy.low_stock_days), self.config.notice_days)
        (chosen,) = sweep((policy.alert_confidence,))
        for rule, (alerts, scored, ok) in self.counts.items():
            report.rules[rule] = {"alerts": alerts, "scored": scored, "confirmed": ok,
                                  "precision": score.precision(ok, scored),
                                  "horizon_days": score.RULE_HORIZON_DAYS[rule]}
        report.low_stock = {**report.rules["low_stock"], "stockouts": chosen["stockouts"],
                            "caught": chosen["caught"], "recall": chosen["recall"],
                            "notice_days": self.config.notice_days,
                            "in_stock_alerts": chosen["in_stock_alerts"],
                            "in_stock_precision": chosen["in_stock_precision"],
                            "by_confidence": sweep(), "calibration":
                            score.calibration(self.low_chances)}
        sums = {k: float(np.sum(v)) for k, v in self.errors.items()}
        for name in ("model", "seasonal_naive"):
            cells = max(sums.get(f"{name}:cells", 0.0), 1.0)
            report.forecast[name] = {
                "wape": sums.get(f"{name}:error", 0.0) / max(sums.get(f"{name}:total", 0), 1),
                "mase": float(np.mean(self.errors.get(f"{name}:mase", [np.nan]))),
                "coverage_80": sums.get(f"{name}:in80", 0.0) / cells,
                "coverage_95": sums.get(f"{name}:in95", 0.0) / cells,
            }
        report.forecast["coverage_80_by_model"] = {
            key.split(":")[1]: {"coverage_80": sums[key] / max(sums[key[:-4] + "cells"], 1),
                                "cells": int(sums[key[:-4] + "cells"])}
            for key in sums if key.startswith("by_model:") and key.endswith(":in80")}
        model, naive = report.forecast["model"]["mase"], report.forecast["seasonal_naive"]["mase"]
        report.forecast.update({"mase_ratio": model / naive if naive else None,
                                "origins": len(self.errors.get("model:cells", [])),
                                "horizon": self.config.forecast.horizon})


def backtest_warehouse(
    warehouse: Warehouse, truth_dir: Path | None, config: BacktestConfig
) -> BacktestReport:
    """Replay the warehouse's ``inventory.demand_history`` (built by a materialize run)."""
    panel = DemandPanel.from_frame(warehouse.fetch_df(HISTORY_SQL))
    products = read_products(warehouse)
    truth = generator_truth(truth_dir, panel) if truth_dir else observed_truth(panel)
    return replay(panel, products, truth, config, category_codes(products, panel.product_ids))
