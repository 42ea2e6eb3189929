"""Each member's standardization of inputs and target, from its own (weighted) training rows.

The statistics and the rule for a constant column are :mod:`kerasnet.standardization`'s; this
module says which rows each member's come from.
"""

from __future__ import annotations

import numpy as np

from ..standardization import Moments, weighted_moments
from . import grid

__all__ = ["chunked_statistics", "member_scaling", "path_statistics", "standardizer", "target_moments",
           "target_standardizer"]


def _moments32(values, rows, weight):
    """:func:`kerasnet.standardization.weighted_moments` of ``values[rows]`` as float32 (the
    engine's dtype): sd 1 where the column is constant, that module's one rule."""
    mean, sd = weighted_moments(values, np.where(rows, weight, 0.0))
    return mean.astype("float32"), sd.astype("float32")


def standardizer(X, rows, standardize, weight):
    """Mean and sd of the features over ``rows`` (zeros and ones when not standardizing)."""
    if not standardize:
        return np.zeros(X.shape[1], "float32"), np.ones(X.shape[1], "float32")
    return _moments32(X, rows, weight)


def target_standardizer(y, rows, task, standardize, weight):
    """Regression target mean and sd of ``rows`` (the network fits the standardized target,
    so its intercept is not left to crawl towards ``mean(y)`` and ``lambda`` is scale-free)."""
    y = np.asarray(y, "float64").reshape(len(y), -1) if task == "regression" else np.zeros((len(y), 1))
    if task != "regression" or not standardize:
        return np.zeros(y.shape[1], "float32"), np.ones(y.shape[1], "float32")
    return _moments32(y, rows, weight)


def target_moments(y, sets, task, weight):
    """Each row set's regression target ``(mean [R, k], sd [R, k])`` (:func:`target_standardizer`
    on every set of ``sets [R, n]``; None for other tasks, whose targets are not standardized)."""
    if task != "regression":
        return None
    stats = [target_standardizer(y, rows, task, True, weight) for rows in sets]
    return np.stack([m for m, _ in stats]), np.stack([sd for _, sd in stats])


def member_scaling(member_rows, x_stats, y_stats=None):
    """The engine's ``scaling`` for members whose training rows are row set ``member_rows[k]``.

    ``(x_mean, x_scale, y_mean, y_scale)``, each ``[K, ...]``; ``x_stats`` is each row set's
    feature ``(mean [R, d], sd [R, d])`` (:func:`path_statistics`), ``y_stats`` the regression
    target's (:func:`target_moments`; None: the target as given, classes are not standardized).
    """
    x_mean, x_scale = x_stats[0][member_rows], x_stats[1][member_rows]
    if y_stats is None:
        return x_mean, x_scale, None, None
    return x_mean, x_scale, y_stats[0][member_rows], y_stats[1][member_rows]


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
        float64, merged with Chan et al.'s pairwise update, so one pass is as exact as two
        (:class:`kerasnet.standardization.Moments`).
    cross : float64 array [d, k]
        ``X' (w * r)`` over all rows, raw features (the grid's null gradient before
        standardization).
    """
    moments = [Moments() for _ in sets]
    cross = None
    for i, (a, b) in enumerate(chunks.bounds):
        x = np.asarray(chunks.read(i), "float64")
        if cross is None:
            cross = np.zeros((x.shape[1], residual.shape[1]))
        cross += x.T @ (weight[a:b, None] * residual[a:b])
        for r, m in enumerate(moments):
            m.add(x, np.where(sets[r, a:b], weight[a:b], 0.0))
    mean, sd = (np.stack(s).astype("float32") for s in zip(*(m.result() for m in moments), strict=True))
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
