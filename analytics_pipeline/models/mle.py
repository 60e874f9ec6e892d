"""Maximum likelihood on log-parameters, shared by the BG/NBD and Gamma-Gamma models.

Every parameter of both models is positive; optimizing their logarithms keeps them so
without bounds, and puts parameters of very different sizes (``r`` near 0.2, ``alpha``
in the tens of days) on one scale for L-BFGS-B.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

FloatArray = npt.NDArray[np.float64]
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

# Tight enough that refits agree to well under 0.1 % (the published figures have 3-4
# significant digits); the analytic gradients make the extra iterations cheap.
_OPTIONS = {"ftol": 1e-12, "gtol": 1e-9, "maxiter": 2_000}
# Summing a million log-likelihood terms leaves rounding noise near the optimum, where the
# line search can give up ("ABNORMAL") although the optimum is reached: such a stop counts
# as converged when the gradient is this small relative to the log-likelihood.
_STATIONARY = 1e-7


class ModelFitError(ValueError):
    """A model cannot be fitted to the data given; the message says why and what to do."""


def fit_log_params(
    negative_ll: Objective, start: FloatArray, model: str
) -> tuple[FloatArray, float, int]:
    """Minimize ``negative_ll`` over log-parameters with L-BFGS-B.

    Parameters
    ----------
    negative_ll
        Function of the log-parameters returning the negative log-likelihood and its
        gradient with respect to the log-parameters.
    start
        Starting parameters (natural scale, all positive).
    model
        Model name for error messages.

    Returns
    -------
    tuple
        Fitted parameters (natural scale), the maximized log-likelihood and the
        number of iterations.

    Raises
    ------
    ModelFitError
        When the optimizer stops without converging or at a non-finite optimum.
    """
    # L-BFGS-B's BLAS calls on a 3-4 parameter problem only pay thread start-up costs:
    # on a busy machine a multi-threaded BLAS made the CDNOW fit several times slower.
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            negative_ll, np.log(start), jac=True, method="L-BFGS-B", options=_OPTIONS
        )
    params = np.exp(result.x)
    stationary = np.max(np.abs(result.jac)) <= _STATIONARY * max(1.0, abs(float(result.fun)))
    converged = result.success or stationary
    if not (converged and np.all(np.isfinite(params)) and np.isfinite(result.fun)):
        raise ModelFitError(
            f"{model} fit did not converge ({result.message}); parameters reached "
            f"{np.array2string(params, precision=4)}"
        )
    return params, -float(result.fun), int(result.nit)


def check_positive(name: str, values: FloatArray) -> None:
    """Refuse negative or non-finite inputs with a message naming the column."""
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ModelFitError(f"{name} must be finite and >= 0 for every customer")
