"""The lambda grid and the cross-validated choice of lambda, as pure array functions."""

from __future__ import annotations

import numpy as np

__all__ = ["lambda_max", "lambda_grid", "cv_summary", "select_min", "select_1se"]

# glmnet's fallback for l1_ratio ~ 0: lambda_max is computed as if alpha were 1e-3.
MIN_L1_RATIO_FOR_MAX = 1e-3


def lambda_max(X, y, task, l1_ratio):
    """Smallest strength at which the linear (glmnet) model is all zero, at the null model.

    ``lambda_max = max_j |x_j' r| * c / (n * max(l1_ratio, 1e-3))`` with ``X`` as given
    (standardize it first), ``r`` the null model's residual (``y - mean(y)``; one column
    per class for ``multiclass``, one-hot ``y``) and ``c`` the loss's gradient factor:
    2 for Keras's mean squared error (``mean((y-f)^2)`` differentiates to ``2 x'r/n``), 1
    for the cross-entropies. For a network the same scale applies to the first layer's
    signal, and the product of several penalized kernels is shrunk harder still, so the
    largest strength gives an (almost) constant model; below ``l1_ratio = 1e-3`` glmnet's
    fallback keeps the grid finite for ridge.

    Examples
    --------
    >>> X = np.array([[1.0], [-1.0]]); y = np.array([1.0, 0.0])
    >>> float(lambda_max(X, y, "binary", 1.0))
    0.5
    """
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    if task == "multiclass":
        y = np.asarray(y).astype(int).ravel()
        Y = np.eye(int(y.max()) + 1)[y]
    else:
        Y = np.asarray(y, dtype=float).reshape(n, -1)
    r = Y - Y.mean(axis=0)
    factor = 2.0 if task == "regression" else 1.0
    return float(factor * np.abs(X.T @ r).max() / (n * max(l1_ratio, MIN_L1_RATIO_FOR_MAX)))


def lambda_grid(lam_max, n_lambdas=32, lambda_min_ratio=1e-3):
    """``n_lambdas`` log-spaced strengths from ``lam_max`` down to ``lam_max*lambda_min_ratio``.

    Examples
    --------
    >>> lambda_grid(1.0, 3, 0.01).tolist()
    [1.0, 0.1, 0.01]
    """
    return np.geomspace(lam_max, lam_max * lambda_min_ratio, n_lambdas)


def cv_summary(values, excluded=None):
    """Mean and standard error over folds (axis 1) of ``values [n_lambdas, n_folds]``.

    The standard error is glmnet's ``cvsd``: ``std(ddof=1) / sqrt(n_folds)``. Rows with an
    ``excluded`` fold (diverged members) get NaN.
    """
    values = np.asarray(values, dtype=float)
    folds = values.shape[1]
    with np.errstate(invalid="ignore"):  # diverged members hold NaN / inf
        mean = values.mean(axis=1)
        se = values.std(axis=1, ddof=1) / np.sqrt(folds) if folds > 1 else np.zeros(len(values))
    if excluded is not None:
        bad = np.asarray(excluded, bool).any(axis=1)
        mean, se = np.where(bad, np.nan, mean), np.where(bad, np.nan, se)
    return mean, se


def select_min(lambdas, mean, greater_is_better=True):
    """Index of the best mean (NaN ignored); ties go to the largest strength (glmnet)."""
    lambdas, mean = np.asarray(lambdas, float), np.asarray(mean, float)
    score = mean if greater_is_better else -mean
    if np.all(np.isnan(score)):
        raise ValueError("every strength diverged or has no CV score; nothing to select.")
    best = np.nanmax(score)
    candidates = np.flatnonzero(score == best)
    return int(candidates[np.argmax(lambdas[candidates])])


def select_1se(lambdas, mean, se, greater_is_better=True):
    """Index of glmnet's ``lambda.1se``: the largest strength whose mean is within one
    standard error of the best mean (the best strength's own SE).

    Examples
    --------
    >>> select_1se([1.0, 0.1, 0.01], [0.80, 0.90, 0.92], [0.01, 0.01, 0.03])
    1
    """
    lambdas, mean, se = (np.asarray(a, float) for a in (lambdas, mean, se))
    i = select_min(lambdas, mean, greater_is_better)
    score = mean if greater_is_better else -mean
    within = score >= score[i] - se[i]
    within &= ~np.isnan(score)
    candidates = np.flatnonzero(within)
    return int(candidates[np.argmax(lambdas[candidates])])
