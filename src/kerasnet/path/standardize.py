"""Each member's standardization of inputs and target, from its own (weighted) training rows."""

from __future__ import annotations

import numpy as np

__all__ = ["member_scaling", "standardizer", "target_standardizer"]


#: Rows per block when summing: float64 temporaries stay blocks x columns, not rows x columns.
BLOCK = 65536


def _weighted_moments(values, rows, weight):
    """Weighted mean and (population) sd of ``values[rows]``; sd 1 where constant.

    Two passes in blocks of rows, accumulated in float64.
    """
    w = np.where(rows, weight, 0.0)
    total = w.sum()
    blocks = range(0, len(values), BLOCK)
    def block(a):
        return np.asarray(values[a:a + BLOCK], "float64")

    mean = sum(w[a:a + BLOCK] @ block(a) for a in blocks) / total
    square = sum(w[a:a + BLOCK] @ np.square(block(a) - mean) for a in blocks)
    sd = np.sqrt(square / total)
    return mean.astype("float32"), np.where(sd > 0, sd, 1.0).astype("float32")


def standardizer(X, rows, standardize, weight):
    """Mean and sd of the features over ``rows`` (zeros and ones when not standardizing)."""
    if not standardize:
        return np.zeros(X.shape[1], "float32"), np.ones(X.shape[1], "float32")
    return _weighted_moments(X, rows, weight)


def target_standardizer(y, rows, task, standardize, weight):
    """Regression target mean and sd of ``rows`` (the network fits the standardized target,
    so its intercept is not left to crawl towards ``mean(y)`` and ``lambda`` is scale-free)."""
    y = np.asarray(y, "float64").reshape(len(y), -1) if task == "regression" else np.zeros((len(y), 1))
    if task != "regression" or not standardize:
        return np.zeros(y.shape[1], "float32"), np.ones(y.shape[1], "float32")
    return _weighted_moments(y, rows, weight)


def member_scaling(X, y, rows, member_rows, task, standardize, weight):
    """The engine's ``scaling`` for members whose training rows are ``rows[member_rows[k]]``.

    ``(x_mean, x_scale, y_mean, y_scale)``, each ``[K, ...]``; the target entries are None
    except for regression (classes are not standardized).
    """
    stats = [standardizer(X, r, standardize, weight) for r in rows]
    x_mean = np.stack([stats[i][0] for i in member_rows])
    x_scale = np.stack([stats[i][1] for i in member_rows])
    if task != "regression":
        return x_mean, x_scale, None, None
    y_stats = [target_standardizer(y, r, task, standardize, weight) for r in rows]
    return (x_mean, x_scale, np.stack([y_stats[i][0] for i in member_rows]),
            np.stack([y_stats[i][1] for i in member_rows]))
