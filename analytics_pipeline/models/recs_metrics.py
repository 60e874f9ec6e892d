"""Offline ranking metrics for top-k recommendation lists.

For each customer with at least one relevant (held-out) product:
HitRate@k is whether any of the top k is relevant, Recall@k the share of their relevant
products found in the top k, NDCG@k the discounted gain of the hits over the best
possible ordering (binary relevance). Each is averaged over customers. Coverage is the
share of the catalogue that appears in anyone's top k.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class RankingMetrics:
    """Mean per-customer metrics of one method at cutoff ``k``."""

    method: str
    k: int
    customers: int
    hit_rate: float
    recall: float
    ndcg: float
    coverage: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def ranking_metrics(
    method: str,
    recommended: Mapping[str, Sequence[str]],
    relevant: Mapping[str, set[str]],
    catalogue_size: int,
    k: int = 10,
) -> RankingMetrics:
    """Score ``recommended`` lists (best first) against each customer's ``relevant`` set.

    Customers in ``relevant`` without a list count as misses, so a method cannot gain by
    staying silent.
    """
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    hits, recalls, gains = [], [], []
    shown: set[str] = set()
    for customer, wanted in relevant.items():
        top = list(recommended.get(customer, ()))[:k]
        shown.update(top)
        found = np.array([product in wanted for product in top], dtype=bool)
        hits.append(bool(found.any()))
        recalls.append(found.sum() / len(wanted))
        ideal = discounts[: min(len(wanted), k)].sum()
        gains.append(float(discounts[: len(top)][found].sum() / ideal))
    return RankingMetrics(
        method=method,
        k=k,
        customers=len(relevant),
        hit_rate=float(np.mean(hits)) if hits else 0.0,
        recall=float(np.mean(recalls)) if recalls else 0.0,
        ndcg=float(np.mean(gains)) if gains else 0.0,
        coverage=len(shown) / catalogue_size if catalogue_size else 0.0,
    )
