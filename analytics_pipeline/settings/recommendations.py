"""The recommendations A/B experiment: its name, split, test thresholds and feedback store.

Part of :mod:`analytics_pipeline.settings` (read from the same environment by
``Settings.from_env``); kept apart so the experiment's knobs sit together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from analytics_pipeline.settings.parsing import SettingsError, env_number, optional_path


@dataclass(frozen=True)
class RecommendationSettings:
    """How customers are split between the v1 and v2 recommenders (``Settings.recommendations``).

    Attributes
    ----------
    experiment_name
        Hashed with the customer id to pick the arm; a new name reshuffles everyone.
    v2_share
        Share of customers assigned to v2 (the treatment); the rest see v1.
    alpha
        False-positive rate of the sequential test and the confidence intervals (0.05 = 95 %).
    mixture_sd
        Prior spread of the mSPRT's normal mixture over the log lift (0.1: lifts of about
        10 % are what the test is tuned to detect fastest).
    feedback_db
        SQLite file of exposures and feedback events; default ``recommendations.sqlite``
        beside the DuckDB file (``data/`` for BigQuery).
    exposure_flush_seconds
        How often buffered exposures are written to the feedback store.
    """

    experiment_name: str = "recs-v2-vs-v1"
    v2_share: float = 0.5
    alpha: float = 0.05
    mixture_sd: float = 0.1
    feedback_db: Path | None = None
    exposure_flush_seconds: float = 1.0

    def __post_init__(self) -> None:
        if not self.experiment_name.strip():
            raise SettingsError("ANALYTICS_RECS_EXPERIMENT must not be empty")
        if not 0.0 < self.v2_share < 1.0:
            raise SettingsError("ANALYTICS_RECS_V2_SHARE must be a share strictly between 0 and 1")
        if not 0.0 < self.alpha < 0.5:
            raise SettingsError("ANALYTICS_RECS_ALPHA must be between 0 and 0.5")
        if self.mixture_sd <= 0 or self.exposure_flush_seconds <= 0:
            raise SettingsError(
                "ANALYTICS_RECS_MIXTURE_SD and ANALYTICS_RECS_EXPOSURE_FLUSH_SECONDS must be > 0"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RecommendationSettings:
        defaults = cls()
        return cls(
            experiment_name=env.get("ANALYTICS_RECS_EXPERIMENT", defaults.experiment_name),
            v2_share=env_number(env, "ANALYTICS_RECS_V2_SHARE", defaults.v2_share),
            alpha=env_number(env, "ANALYTICS_RECS_ALPHA", defaults.alpha),
            mixture_sd=env_number(env, "ANALYTICS_RECS_MIXTURE_SD", defaults.mixture_sd),
            feedback_db=optional_path(env.get("ANALYTICS_RECS_FEEDBACK_DB")),
            exposure_flush_seconds=env_number(
                env, "ANALYTICS_RECS_EXPOSURE_FLUSH_SECONDS", defaults.exposure_flush_seconds
            ),
        )

    def feedback_db_path(self, data_dir: Path) -> Path:
        """The feedback store's file: the configured one, else beside the warehouse."""
        return self.feedback_db or data_dir / "recommendations.sqlite"
