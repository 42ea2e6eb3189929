"""Cox proportional hazards: Breslow's partial likelihood, its null model, and Harrell's C.

The network's output ``eta`` is the log relative hazard. With times ``t``, events ``d`` (1:
the event happened at ``t``, 0: censored) and row weights ``w``, Breslow's negative log
partial likelihood per unit weight is

    ``-sum_i w_i d_i (eta_i - log sum_{j: t_j >= t_i} w_j exp(eta_j)) / sum_i w_i``

(tied times share their risk set: Breslow's handling of ties), glmnet's ``family="cox"``
objective before its penalty. In training the risk sets are those of the batch (the
partial likelihood of the batch's rows, as DeepSurv); with one batch of all rows it is the
exact objective (the linear model then equals glmnet, tested).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

__all__ = ["CoxPartialLikelihood", "c_index", "check_survival_target", "cox_deviance", "cox_deviance_ratio",
           "cox_terms", "glmnet_cox_deviance", "grouped_cox_deviance", "null_martingale_residual"]


def cox_terms(time, event, eta, weight):
    """Per-row terms ``-d_i (eta_i - log sum_{j in R_i} w_j exp(eta_j))`` (tensors ``[B]``); rows of
    weight 0 (padding) are in no risk set. Their ``weight``-weighted mean is the loss."""
    at_risk = ops.expand_dims(time, 0) >= ops.expand_dims(time, 1)  # [i, j]: t_j >= t_i
    logw = ops.log(ops.maximum(weight, 1e-30))
    scores = ops.where(at_risk & ops.expand_dims(weight > 0, 0), ops.expand_dims(eta + logw, 0), -1e30)
    return -event * (eta - ops.logsumexp(scores, axis=1))


@keras.saving.register_keras_serializable(package="kerasnet")
class CoxPartialLikelihood(keras.losses.Loss):
    """Keras loss: Breslow's negative log partial likelihood of the batch (``y_true`` columns
    time and event, ``y_pred`` the log relative hazard); the batch mean is the Cox loss."""

    def __init__(self, name="cox_partial_likelihood", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        eta = ops.reshape(y_pred, (-1,))
        return cox_terms(y_true[:, 0], y_true[:, 1], eta, ops.ones_like(eta))


def check_survival_target(y):
    """``y`` as float32 ``[n, 2]`` (time, event) from two columns, a structured array of two
    fields or a two-column DataFrame; a ValueError naming the fix otherwise."""
    if getattr(y, "dtype", None) is not None and getattr(y.dtype, "names", None):
        names = y.dtype.names
        if len(names) != 2:
            raise ValueError(f"a survival target has two fields (event, time or time, event); received "
                             f"{names}.")
        # scikit-survival's convention: (event: bool, time: float); else (time, event).
        first, second = (np.asarray(y[n]) for n in names)
        pair = (second, first) if first.dtype == bool else (first, second)
        y = np.column_stack(pair)
    y = np.asarray(y, dtype=float)
    if y.ndim != 2 or y.shape[1] != 2:
        raise ValueError("task='cox' needs y as two columns, time and event (1: the event, 0: censored); "
                         f"received shape {y.shape}.")
    time, event = y[:, 0], y[:, 1]
    if not np.all(np.isfinite(time)) or (time <= 0).any():
        raise ValueError("task='cox' needs every time finite and > 0 (the first column of y).")
    if not np.isin(event, (0.0, 1.0)).all() or not event.any():
        raise ValueError("task='cox' needs events of 0 or 1 (the second column of y), at least one 1.")
    return y.astype("float32")


def null_martingale_residual(y, weight):
    """Martingale residuals ``d_i - Lambda_0(t_i)`` of the null model (``eta = 0``), with
    Breslow's cumulative hazard ``Lambda_0(t) = sum_{k: t_k <= t} w_k d_k / sum_{j: t_j >= t_k} w_j``:
    the null gradient is ``-X' (w r) / n`` (glmnet's ``lambda_max`` for ``family="cox"``)."""
    y = np.asarray(y, float)
    time, event = y[:, 0], y[:, 1]
    w = np.asarray(weight, float)
    order = np.argsort(time, kind="stable")
    t_sorted, w_sorted = time[order], w[order]
    # Weight at risk at each time: the sum over t_j >= t (ties share it).
    at_risk = np.cumsum(w_sorted[::-1])[::-1]
    first = np.searchsorted(t_sorted, t_sorted, side="left")
    risk = at_risk[first]
    jumps = np.where(event[order] > 0, w_sorted / risk, 0.0)
    cumulative = np.cumsum(jumps)
    last = np.searchsorted(t_sorted, t_sorted, side="right") - 1  # every tie's jumps included
    hazard = np.empty_like(time)
    hazard[order] = cumulative[last]
    return event - hazard


def cox_deviance(y, eta, weight=None):
    """Twice the negative log partial likelihood per unit weight of rows ``y`` (time, event)
    at ``eta``, their own rows the risk sets (cv.glmnet's ``grouped=FALSE`` deviance per row).

    O(n log n): each risk set's log sum is a running ``logaddexp`` down the times, sorted.
    """
    y = np.asarray(y, float)
    eta = np.asarray(eta, float).ravel()
    w = np.ones(len(eta)) if weight is None else np.asarray(weight, float)
    order = np.argsort(-y[:, 0], kind="stable")  # longest time first
    t_desc = y[order, 0]
    scores = np.where(w[order] > 0, eta[order] + np.log(np.maximum(w[order], 1e-300)), -np.inf)
    running = np.logaddexp.accumulate(scores)  # log sum over t_j >= this row's time ...
    # ... once every row tied with it is in: take the running sum at the last row of its tie
    last_tied = np.searchsorted(-t_desc, -t_desc, side="right") - 1
    log_risk = np.empty(len(eta))
    log_risk[order] = running[last_tied]
    # Rows of weight 0 count nothing, also where their risk set holds no weight (log 0).
    terms = np.where(w > 0, -y[:, 1] * (eta - log_risk), 0.0)
    return float(2.0 * (w * terms).sum() / w.sum())


def glmnet_cox_deviance(y, eta, weight=None):
    """glmnet's ``coxnet.deviance`` of rows ``y`` at ``eta``: ``2 (l_sat - l)`` with the log partial
    likelihood ``l`` and the saturated ``l_sat`` summed (not averaged) over the rows, whose
    weights are first rescaled to sum to their count (``std.weights``)."""
    y = np.asarray(y, float)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, float)
    w = w * (len(w) / w.sum())
    events = y[:, 1] > 0
    _, group = np.unique(y[events, 0], return_inverse=True)
    tied = np.bincount(group, weights=w[events])
    tied = tied[tied > 0]
    return float(-2.0 * tied @ np.log(tied) + cox_deviance(y, eta, w) * w.sum())


def grouped_cox_deviance(y, etas, weight, test):
    """cv.glmnet's grouped Cox deviance of one fold (its default, ``grouped=TRUE``): for each
    member's ``eta`` on all rows (``etas [L, n]``, the members fit without the fold's rows
    ``test``), ``(D(all rows) - D(the other rows)) / the fold's weighted events`` with
    :func:`glmnet_cox_deviance` ``D``. The fold's own rows enter only through the risk sets
    they share with the others, so small folds need no risk sets of their own."""
    y = np.asarray(y, float)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, float)
    test = np.asarray(test, bool)
    events = float((w * y[:, 1])[test].sum())
    return np.array([(glmnet_cox_deviance(y, eta, w) - glmnet_cox_deviance(y[~test], eta[~test], w[~test]))
                     / events for eta in np.asarray(etas, float)])


def cox_deviance_ratio(y, etas, weight=None):
    """glmnet's ``dev.ratio`` for ``family="cox"`` of each row of ``etas`` ``[K, n]``:
    ``1 - D(eta) / D(0)`` with :func:`glmnet_cox_deviance` ``D`` (its saturated likelihood
    groups tied event times, as ``coxnet.deviance`` does)."""
    null = glmnet_cox_deviance(y, np.zeros(len(y)), weight)
    return np.array([1.0 - glmnet_cox_deviance(y, eta, weight) / null for eta in np.asarray(etas, float)])


def c_index(y, eta, weight=None):
    """Harrell's concordance: among comparable pairs (the shorter time had the event; at a tied
    time an event is before a censoring), the share where the shorter time has the higher ``eta``
    (ties in ``eta`` count one half), pairs weighted ``w_i w_j``: glmnet's ``Cindex``
    (``survival::concordance``) and scikit-survival's ``concordance_index_censored``.

    Pairs are counted in blocks of rows, so memory stays bounded on large folds.
    """
    y = np.asarray(y, float)
    time, event = y[:, 0], y[:, 1]
    eta = np.asarray(eta, float).ravel()
    w = np.ones(len(time)) if weight is None else np.asarray(weight, float)
    concordant = total = 0.0
    rows = np.flatnonzero(event > 0)
    step = max(1, 2**22 // max(1, len(time)))
    for a in range(0, len(rows), step):
        i = rows[a:a + step]
        later = (time[i, None] < time[None, :]) | ((time[i, None] == time[None, :]) & (event[None, :] == 0))
        pair_w = w[i, None] * w[None, :] * later
        score = (eta[i, None] > eta[None, :]) + 0.5 * (eta[i, None] == eta[None, :])
        concordant += float((pair_w * score).sum())
        total += float(pair_w.sum())
    return concordant / total if total > 0 else float("nan")
