"""The numpy L-BFGS and the sparse products the classifier's fit is made of."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from chatwootai.routing.lbfgs import minimize
from chatwootai.routing.logistic import SparseRows, fit_logistic


def rosenbrock(x: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
    """The Rosenbrock function (minimum 0 at (1, 1)) and its gradient."""
    a, b = float(x[0]), float(x[1])
    value = (1 - a) ** 2 + 100 * (b - a * a) ** 2
    grad = np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])
    return value, grad


def test_lbfgs_finds_the_minimum_of_a_curved_valley() -> None:
    result = minimize(rosenbrock, np.array([-1.2, 1.0]), max_iter=500, gtol=1e-8, ftol=0.0)
    assert result.converged
    assert np.allclose(result.x, [1.0, 1.0], atol=1e-5)


def test_lbfgs_stops_at_max_iter_unconverged() -> None:
    result = minimize(rosenbrock, np.array([-1.2, 1.0]), max_iter=3, gtol=1e-12, ftol=0.0)
    assert result.iterations == 3
    assert not result.converged


def random_sparse(rows: int, columns: int, seed: int) -> tuple[SparseRows, npt.NDArray[np.float64]]:
    """A random sparse matrix with some empty rows and columns, and its dense copy."""
    rng = np.random.default_rng(seed)
    dense = rng.random((rows, columns)) * (rng.random((rows, columns)) < 0.1)
    dense[::4] = 0.0  # empty rows, including the first and possibly the last
    r, c = np.nonzero(dense)
    order = rng.permutation(len(r))  # the constructor sorts by row
    return SparseRows(r[order], c[order], dense[r, c][order], dense.shape), dense


def test_sparse_products_equal_dense_products() -> None:
    matrix, dense = random_sparse(37, 53, seed=1)
    rng = np.random.default_rng(2)
    weights = rng.random((5, 53))
    per_row = rng.random((5, 37))
    assert np.allclose(matrix.dot(weights), (dense @ weights.T).T)
    assert np.allclose(matrix.tdot(per_row), (dense.T @ per_row.T).T)


def test_an_empty_matrix_gives_zero_products() -> None:
    empty = SparseRows(
        np.array([], dtype=np.intp), np.array([], dtype=np.intp), np.array([]), (3, 4)
    )
    assert not empty.dot(np.ones((2, 4))).any()
    assert not empty.tdot(np.ones((2, 3))).any()


def test_binary_fit_is_symmetric_and_separates() -> None:
    matrix, _ = random_sparse(40, 30, seed=3)
    targets = (np.arange(40) % 2).astype(np.intp)
    fit = fit_logistic(matrix, targets, 2, c=20.0, max_iter=300)
    assert fit.converged
    assert fit.coef.shape == (2, 30)
    assert np.allclose(fit.coef[0], -fit.coef[1])
    assert np.allclose(fit.intercept[0], -fit.intercept[1])
