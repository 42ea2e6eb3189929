"""Each member's standardization of inputs and target, from its own (weighted) training rows."""

from __future__ import annotations

import numpy as np

from . import grid
from .sources import Chunks

__all__ = ["chunked_statistics", "member_scaling", "path_statistics", "set_moments", "standardizer",
           "target_standardizer"]


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


def member_scaling(y, rows, member_rows, task, weight, x_stats):
    """The engine's ``scaling`` for members whose training rows are ``rows[member_rows[k]]``.

    ``(x_mean, x_scale, y_mean, y_scale)``, each ``[K, ...]``; ``x_stats`` is each row set's
    feature ``(mean [R, d], sd [R, d])`` (:func:`path_statistics`). The target entries are
    None except for regression (classes are not standardized); the target's moments of every
    row set come from one pass over the rows (:func:`set_moments`).
    """
    x_mean, x_scale = x_stats[0][member_rows], x_stats[1][member_rows]
    if task != "regression":
        return x_mean, x_scale, None, None
    y = np.asarray(y, "float64").reshape(len(y), -1)
    y_mean, y_scale = set_moments(Chunks.blocks(y, BLOCK), np.stack(rows), weight)
    return x_mean, x_scale, y_mean[member_rows], y_scale[member_rows]


def _moments_update(state, x, sets, weight):
    """Fold the rows ``x [m, d]`` (float64) into every row set's running ``(total, mean, m2)``.

    All sets at once: the sets' weights as a matrix ``W [R, m]`` multiply the rows shifted by
    the first row (two matrix products over the rows, whatever ``R``; a constant column is then
    exactly constant); each set's part is merged into its running moments with Chan et al.'s
    pairwise update (float64).
    """
    total, mean, m2 = state
    W = np.where(sets, weight[None, :], 0.0)
    part = W.sum(axis=1)
    shift = x[0]
    x = x - shift
    s1, s2 = W @ x, W @ np.square(x)
    some = part > 0
    safe = np.where(some, part, 1.0)[:, None]
    centre = s1 / safe  # each set's mean of the shifted rows
    part_m2 = np.maximum(s2 - centre * s1, 0.0)  # sum w (x - mean)^2
    part_mean = centre + shift
    both = total + part
    delta = part_mean - mean
    ratio = np.where(some, part / np.where(both > 0, both, 1.0), 0.0)[:, None]
    mean = mean + delta * ratio
    m2 = m2 + np.where(some[:, None], part_m2 + np.square(delta) * (total[:, None] * ratio), 0.0)
    return both, mean, m2


def _moments_result(state):
    total, mean, m2 = state
    sd = np.sqrt(m2 / np.where(total > 0, total, 1.0)[:, None])
    return mean.astype("float32"), np.where(sd > 0, sd, 1.0).astype("float32")


def set_moments(chunks, sets, weight):
    """Every row set's weighted mean and (population) sd ``[R, d]`` in one pass over the rows
    (sd 1 where constant); ``chunks`` a :class:`kerasnet.path.sources.Chunks` of ``[n, d]``,
    ``sets [R, n]`` bool."""
    state = None
    for i, (a, b) in enumerate(chunks.bounds):
        x = np.asarray(chunks.read(i), "float64").reshape(b - a, -1)
        if state is None:
            R, d = len(sets), x.shape[1]
            state = np.zeros(R), np.zeros((R, d)), np.zeros((R, d))
        state = _moments_update(state, x, sets[:, a:b], weight[a:b])
    return _moments_result(state)


def chunked_statistics(chunks, sets, weight, residual):
    """One pass over streamed features: every row set's weighted mean and sd, and ``X' (w r)``.

    Parameters
    ----------
    chunks : kerasnet.path.sources.Chunks
    sets : bool array [R, n]
        Row sets (e.g. each fold's training rows, then all rows).
    weight : array [n]
    residual : array [n, k]
        The null model's residual ``r`` (:func:`kerasnet.path.grid.null_residual`).

    Returns
    -------
    mean, sd : float32 arrays [R, d]
        As :func:`standardizer` on each set (sd 1 where constant): each chunk's moments in
        float64, merged with Chan et al.'s pairwise update, so one pass is as exact as two;
        all sets from the same two matrix products per chunk (:func:`set_moments`).
    cross : float64 array [d, k]
        ``X' (w * r)`` over all rows, raw features (the grid's null gradient before
        standardization).
    """
    state = cross = None
    for i, (a, b) in enumerate(chunks.bounds):
        x = np.asarray(chunks.read(i), "float64")
        if state is None:
            R, d = len(sets), x.shape[1]
            state = np.zeros(R), np.zeros((R, d)), np.zeros((R, d))
            cross = np.zeros((d, residual.shape[1]))
        cross += x.T @ (weight[a:b, None] * residual[a:b])
        state = _moments_update(state, x, sets[:, a:b], weight[a:b])
    mean, sd = _moments_result(state)
    return mean, sd, cross


def path_statistics(chunks, y, task, sets, weight, standardize, exposure=None, unpenalized=None):
    """One pass over the features: each row set's ``(mean [R, d], sd [R, d])``, the target's
    standardization on all rows, and the null gradient ``G`` of the grid (the features
    standardized with all rows' statistics). ``unpenalized`` (the columns of the features with
    penalty factor 0, ``[n, m]``) puts them in the null model, as glmnet does."""
    n = len(y)
    y_all = target_standardizer(y, sets[-1], task, standardize, weight)
    target = (y.reshape(n, -1) - y_all[0]) / y_all[1] if task == "regression" else y
    w, r = grid.null_residual(target, task, n, weight, exposure)
    if unpenalized is not None and unpenalized.shape[1]:
        fitted = grid.unpenalized_residual(unpenalized, target, task, w, exposure)
        r = r if fitted is None else fitted
    mean, sd, cross = chunked_statistics(chunks, sets, w, r)
    if not standardize:
        mean, sd = np.zeros_like(mean), np.ones_like(sd)
    centred = (cross - mean[-1][:, None] * (w @ r)[None, :]) / sd[-1][:, None]
    G = grid.gradient_factor(task, r.shape[1]) * centred / n
    return (mean, sd), y_all, G
