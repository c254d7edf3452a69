"""Multinomial logistic regression on sparse rows, fitted with numpy only.

The objective is scikit-learn's (`LogisticRegression(C=c)` with the `lbfgs` solver): mean
cross-entropy plus ``‖W‖² / (2·c·n)``, intercepts not penalised; with two classes the binary model
(one weight vector) as scikit-learn fits it. It is minimised by
:func:`chatwootai.routing.lbfgs.minimize` with scikit-learn's tolerances, so the fitted
probabilities agree with scikit-learn's to the solvers' tolerance (the tests compare them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chatwootai.routing.lbfgs import minimize

Array = npt.NDArray[np.float64]
Values = Array
Indexes = npt.NDArray[np.intp]


class SparseRows:
    """A sparse matrix (coordinates and values of its non-zeros) and the two products a fit needs.

    Dense operands are class-major, ``(k, columns)`` or ``(k, rows)``, so each class is one
    contiguous gather, multiply and sum over the stored values: numpy's fastest path here, and no
    BLAS call whose threads would cost more than the work on problems this small.
    """

    def __init__(self, rows: Indexes, columns: Indexes, values: Array, shape: tuple[int, int]):
        order = np.argsort(rows, kind="stable")  # row by row, as the row sums need
        self.shape = shape
        self.rows: Indexes = rows[order]
        self.columns: Indexes = columns[order]
        self.values: Array = values[order]
        lengths = np.bincount(self.rows, minlength=shape[0])
        self._nonempty: Indexes = np.flatnonzero(lengths)
        self._starts: Indexes = (np.cumsum(lengths) - lengths)[self._nonempty]
        self._buffer: Array = np.empty(len(self.values))

    def dot(self, dense: Array) -> Array:
        """``(self @ dense.T).T`` for class-major `dense` of shape (k, columns): (k, rows)."""
        out = np.zeros((dense.shape[0], self.shape[0]))
        if not len(self._starts):
            return out
        buffer = self._buffer
        for k, weights in enumerate(dense):
            np.take(weights, self.columns, out=buffer)
            np.multiply(buffer, self.values, out=buffer)
            out[k, self._nonempty] = np.add.reduceat(buffer, self._starts)
        return out

    def tdot(self, dense: Array) -> Array:
        """``(self.T @ dense.T).T`` for class-major `dense` of shape (k, rows): (k, columns)."""
        out = np.empty((dense.shape[0], self.shape[1]))
        buffer = self._buffer
        for k, per_row in enumerate(dense):
            np.take(per_row, self.rows, out=buffer)
            np.multiply(buffer, self.values, out=buffer)
            out[k] = np.bincount(self.columns, weights=buffer, minlength=self.shape[1])
        return out


@dataclass(frozen=True, slots=True)
class LogisticFit:
    """Fitted weights (k, columns), intercepts (k,), and how the optimiser ended."""

    coef: Array
    intercept: Array
    iterations: int
    converged: bool


def fit_logistic(
    features: SparseRows,
    targets: Indexes,
    classes: int,
    *,
    c: float,
    max_iter: int,
    tol: float = 1e-4,
) -> LogisticFit:
    """Fit an L2-regularised multinomial (binary for two classes) logistic regression."""
    rows, columns = features.shape
    free = classes if classes > 2 else 1  # binary: class 0 keeps logit 0, one weight vector
    observed = np.zeros((classes, rows))
    observed[targets, np.arange(rows)] = 1.0
    if free != classes:
        observed = observed[1:]
    strength = 1.0 / (c * rows)
    size = free * columns

    def objective(x: Array) -> tuple[float, Array]:
        weights = x[:size].reshape(free, columns)
        logits = features.dot(weights) + x[size:, None]
        if free != classes:
            logits = np.vstack([np.zeros((1, rows)), logits])
        top = logits.max(axis=0)
        exp = np.exp(logits - top)
        total = exp.sum(axis=0)
        log_norm = np.log(total) + top
        loss = float(np.sum(log_norm - logits[targets, np.arange(rows)])) / rows
        residual = exp[classes - free :] / total - observed
        grad_w = features.tdot(residual) / rows + strength * weights
        grad_b = residual.sum(axis=1) / rows
        penalty = 0.5 * strength * float(np.einsum("ij,ij->", weights, weights))
        return loss + penalty, np.concatenate([grad_w.ravel(), grad_b])

    result = minimize(objective, np.zeros(size + free), max_iter=max_iter, gtol=tol)
    weights = result.x[:size].reshape(free, columns)
    bias = result.x[size:]
    if free != classes:  # the binary model in symmetric form: the same probabilities
        weights = np.vstack([-weights[0] / 2, weights[0] / 2])
        bias = np.array([-bias[0] / 2, bias[0] / 2])
    return LogisticFit(np.ascontiguousarray(weights), bias, result.iterations, result.converged)
