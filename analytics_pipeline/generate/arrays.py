"""Array type aliases and small grouping helpers shared by the generator modules."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SECONDS_PER_DAY = 86_400


def run_starts(keys: IntArray) -> IntArray:
    """Return the index where each run of equal consecutive keys begins.

    Parameters
    ----------
    keys
        Keys already sorted (or at least grouped) so equal keys are adjacent.

    Returns
    -------
    IntArray
        Start index of every run, ascending.
    """
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.empty(len(keys), dtype=bool)
    change[0] = True
    np.not_equal(keys[1:], keys[:-1], out=change[1:])
    return np.flatnonzero(change).astype(np.int64)


def run_ranks(keys: IntArray) -> IntArray:
    """Return each element's 0-based position within its run of equal consecutive keys.

    Parameters
    ----------
    keys
        Grouped keys (equal keys adjacent).

    Returns
    -------
    IntArray
        Position of every element inside its run.
    """
    starts = run_starts(keys)
    lengths = np.diff(np.append(starts, len(keys)))
    return np.arange(len(keys), dtype=np.int64) - np.repeat(starts, lengths)


def as_int(values: npt.ArrayLike) -> IntArray:
    """Return ``values`` as an int64 array (no copy when already int64)."""
    return np.asarray(values, dtype=np.int64)


def as_float(values: npt.ArrayLike) -> FloatArray:
    """Return ``values`` as a float64 array (no copy when already float64)."""
    return np.asarray(values, dtype=np.float64)
