"""Random-number plumbing: per-stage generators and a vectorised weighted sampler."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from analytics_pipeline.generate.arrays import FloatArray, IntArray, as_int

# Keeps u strictly below 1 so block offset + u never rounds up into the next block.
_U_MAX = 1.0 - 1e-9


def stage_rng(seed: int, stage: str) -> np.random.Generator:
    """Return an independent generator for one generation stage.

    Each stage gets its own ``SeedSequence`` keyed by the stage name, so adding draws to
    one stage never shifts the random numbers another stage sees.

    Parameters
    ----------
    seed
        The user's seed.
    stage
        A stable stage name, e.g. ``"catalog"``.
    """
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(stage.encode())]))


@dataclass(frozen=True)
class BlockSampler:
    """Draws a column for each query from row-specific weights, restricted to a block.

    The weights form a ``(rows, cols)`` matrix whose columns are partitioned into
    contiguous blocks (e.g. rows = days, cols = products grouped by category). All
    cumulative distributions are laid out in one sorted array with an integer offset per
    (row, block), so millions of draws are a single ``searchsorted``.
    """

    cdf: FloatArray
    n_cols: int
    n_blocks: int

    @classmethod
    def build(cls, weights: FloatArray, starts: IntArray) -> BlockSampler:
        """Build a sampler from non-negative ``weights`` and the block start columns.

        Parameters
        ----------
        weights
            ``(rows, cols)`` weights; a block whose weights are all zero on some row
            falls back to its last column.
        starts
            Ascending first column of every block; ``starts[0]`` must be 0.
        """
        rows, n_cols = weights.shape
        ends = np.append(starts[1:], n_cols) - 1
        block_of = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n_cols)))
        cum = np.cumsum(weights, axis=1)
        before = np.where(starts > 0, cum[:, np.maximum(starts - 1, 0)], 0.0)
        total = cum[:, ends] - before
        total = np.where(total > 0, total, 1.0)
        share = (cum - before[:, block_of]) / total[:, block_of]
        share[:, ends] = 1.0  # exact block end, immune to cumulative rounding
        offsets = np.arange(rows)[:, None] * len(starts) + block_of[None, :]
        return cls(cdf=(share + offsets).ravel(), n_cols=n_cols, n_blocks=len(starts))

    def draw(self, row: IntArray, block: IntArray, rng: np.random.Generator) -> IntArray:
        """Draw one column per (row, block) query.

        Parameters
        ----------
        row, block
            Equal-length arrays of row and block indices.
        rng
            Source of the uniform draws.

        Returns
        -------
        IntArray
            Column index of every draw (always inside the requested block).
        """
        u = np.minimum(rng.random(len(row)), _U_MAX)
        pos = np.searchsorted(self.cdf, (row * self.n_blocks + block) + u, side="right")
        return as_int(pos) - row * self.n_cols


def choose(rng: np.random.Generator, n: int, probabilities: FloatArray) -> IntArray:
    """Draw ``n`` category indices with the given probabilities (normalised here)."""
    p = np.asarray(probabilities, dtype=np.float64)
    return as_int(rng.choice(len(p), size=n, p=p / p.sum()))


def top_k_without_replacement(
    rng: np.random.Generator, n: int, weights: FloatArray, k: int
) -> IntArray:
    """Draw ``k`` distinct indices per row, each row weighted by ``weights``.

    Uses the Gumbel top-k trick, which samples without replacement in one sort.

    Returns
    -------
    IntArray
        ``(n, k)`` indices, most "preferred" first.
    """
    keys = np.log(weights)[None, :] + rng.gumbel(size=(n, len(weights)))
    return as_int(np.argsort(-keys, axis=1)[:, :k])
