"""L-BFGS minimisation of a smooth function, in numpy (Nocedal & Wright, algorithms 7.4 and 7.5).

The routing classifier's objective is smooth and strictly convex, so a plain limited-memory BFGS
reaches the optimum as surely as SciPy's L-BFGS-B does, without importing SciPy: that import alone
costs about a second and 60 MB at start-up. Steps meet the strong Wolfe conditions with
L-BFGS-B's constants, so with the same tolerances the fit stops where SciPy's would.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float64]
Objective = Callable[[Vector], tuple[float, Vector]]
"""x → (f(x), ∇f(x))."""


@dataclass(frozen=True, slots=True)
class Minimum:
    """Where the minimisation stopped and why."""

    x: Vector
    value: float
    iterations: int
    evaluations: int
    converged: bool
    """The gradient or the decrease fell under its tolerance before `max_iter`."""


def minimize(
    objective: Objective,
    x0: Vector,
    *,
    max_iter: int = 300,
    gtol: float = 1e-4,
    ftol: float = 64 * float(np.finfo(float).eps),
    memory: int = 10,
    max_line_search: int = 50,
) -> Minimum:
    """Minimise `objective` from `x0`; stops when max|∇f| ≤ gtol or the relative decrease ≤ ftol.

    The tolerances mean what they mean for SciPy's L-BFGS-B (`gtol`, `ftol`), so a model fitted
    here stops where scikit-learn's `lbfgs` solver would.
    """
    x = np.array(x0, dtype=np.float64)
    value, grad = objective(x)
    evaluations = 1
    pairs: deque[tuple[Vector, Vector, float]] = deque(maxlen=memory)  # (s, y, 1 / s·y)
    for iteration in range(max_iter):
        if float(np.max(np.abs(grad), initial=0.0)) <= gtol:
            return Minimum(x, value, iteration, evaluations, True)
        direction = -_inverse_hessian_times(grad, pairs)
        slope = _dot(grad, direction)
        if slope >= 0:  # not a descent direction (rounding): restart from steepest descent
            pairs.clear()
            direction = -grad
            slope = _dot(grad, direction)
        step = 1.0 if pairs else min(1.0, 1.0 / math.sqrt(_dot(grad, grad)))
        candidate, new_value, new_grad, used = _wolfe_step(
            objective, x, value, slope, direction, step, max_line_search
        )
        evaluations += used
        if candidate is None:  # no acceptable step within the budget: stop where we are
            return Minimum(x, value, iteration, evaluations, False)
        s = candidate - x
        y = new_grad - grad
        sy = _dot(s, y)
        if sy > 1e-10 * _dot(y, y):  # curvature information worth keeping
            pairs.append((s, y, 1.0 / sy))
        decrease = (value - new_value) / max(abs(value), abs(new_value), 1.0)
        x, value, grad = candidate, new_value, new_grad
        if decrease <= ftol:
            return Minimum(x, value, iteration + 1, evaluations, True)
    converged = float(np.max(np.abs(grad), initial=0.0)) <= gtol
    return Minimum(x, value, max_iter, evaluations, converged)


def _inverse_hessian_times(grad: Vector, pairs: deque[tuple[Vector, Vector, float]]) -> Vector:
    """The L-BFGS two-loop recursion: H·grad for the inverse Hessian estimate H."""
    q = grad.copy()
    alphas: list[float] = []
    for s, y, rho in reversed(pairs):
        alpha = rho * _dot(s, q)
        alphas.append(alpha)
        q -= alpha * y
    if pairs:
        s, y, rho = pairs[-1]
        q *= 1.0 / (rho * _dot(y, y))  # H0 = (s·y / y·y) I
    for (s, y, rho), alpha in zip(pairs, reversed(alphas), strict=True):
        beta = rho * _dot(y, q)
        q += (alpha - beta) * s
    return q


def _dot(a: Vector, b: Vector) -> float:
    """a·b without BLAS, whose threads cost more than they save on vectors this size."""
    return float(np.einsum("i,i->", a, b))


def _wolfe_step(
    objective: Objective,
    x: Vector,
    value: float,
    slope: float,
    direction: Vector,
    step: float,
    budget: int,
    c1: float = 1e-3,
    c2: float = 0.9,
) -> tuple[Vector | None, float, Vector, int]:
    """A point along `direction` meeting the strong Wolfe conditions (L-BFGS-B's constants):
    bracket, then zoom by safeguarded quadratic interpolation (Nocedal & Wright 3.5, 3.6)."""
    evaluations = 0

    def at(t: float) -> tuple[Vector, float, Vector, float]:
        point = x + t * direction
        f, g = objective(point)
        return point, f, g, _dot(g, direction)

    lo, lo_f, lo_d = 0.0, value, slope  # the best point with a sufficient decrease so far
    hi: float | None = None  # the other end of a bracket holding a Wolfe point, once known
    hi_f = value
    t = step
    while evaluations < budget:
        point, f, g, d = at(t)
        evaluations += 1
        if f > value + c1 * t * slope or f >= lo_f:
            hi, hi_f = t, f
        elif abs(d) <= -c2 * slope:
            return point, f, g, evaluations
        else:
            if d * ((hi if hi is not None else math.inf) - lo) >= 0:
                hi, hi_f = lo, lo_f
            lo, lo_f, lo_d = t, f, d
        if hi is None:
            t *= 2.0  # still descending steeply: extrapolate
            continue
        # The minimum of the quadratic through (lo, f, f') and (hi, f), kept inside the bracket.
        width = hi - lo
        curvature = (hi_f - lo_f - lo_d * width) / (width * width)
        t = lo - lo_d / (2 * curvature) if curvature > 0 else lo + width / 2
        low, high = sorted((lo, hi))
        t = min(max(t, low + 0.1 * (high - low)), high - 0.1 * (high - low))
    return None, value, direction, evaluations
