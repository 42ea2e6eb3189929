"""Cross-validation measures, computed as R's glmnet does (``type.measure``).

Each measure is a weighted mean over a fold's rows of a per-row value (glmnet's
``grouped=TRUE``: one number per fold, folds weighted by their total row weight), except
``auc`` and ``r2``, which are computed per fold as a whole.

:func:`cross_validated` (what :func:`kerasnet.fit_path` calls) scores all members at once on
an accelerator (:func:`kerasnet.path.device_measures.device_values`: float64 reductions over
each member's rows, vectorized over members, compiled on JAX, the AUC's sort there too) and on
the host otherwise
(:func:`host_values`, one fold at a time, each member's outputs read once for all measures);
the two agree to float64 rounding (tested).

========  =================================================================  ======  ====================
measure   per row (or per fold)                                              better  tasks
========  =================================================================  ======  ====================
deviance  classes: ``-2 * sum_k y_k log p_k`` (p clipped to [1e-5, 1-1e-5],  lower   all
          glmnet's binomial / multinomial deviance, twice the log loss);
          regression: squared error summed over outputs (gaussian deviance);
          poisson: ``2 (y log(y / mu) - (y - mu))``
class     misclassification: the predicted class (p > 0.5, or the argmax)    lower   binary, multiclass
          is not the true one
auc       area under the ROC curve of the fold (ties count one half)         higher  binary
mse       ``sum_k (y_k - p_k)^2`` over classes (one-hot y), or squared       lower   all but cox
          error summed over outputs (poisson: of the count ``mu``)
mae       ``sum_k |y_k - p_k|``, or absolute error summed over outputs       lower   all but cox
r2        ``1 - SSE / SST`` of the fold around its own weighted mean,        higher  regression
          averaged over outputs
cindex    Harrell's C of the fold (cox; its deviance is cv.glmnet's          higher  cox
          default, ``grouped=TRUE``: ``D(all rows) - D(other rows)`` at the
          member's fit over the fold's events, folds weighted by their
          events; :mod:`kerasnet.path.survival_cv`)
========  =================================================================  ======  ====================
"""

from __future__ import annotations

import numpy as np

from .device_measures import device_values, on_accelerator
from .measure_names import MEASURES, PROB_CLIP, check_measure, greater_is_better, label

__all__ = ["MEASURES", "check_measure", "cross_validated", "device_values", "fold_values", "host_values",
           "on_accelerator", "greater_is_better", "label"]



def _probabilities(task, outputs):
    """Class probabilities ``[V, C]`` from the network's outputs (sigmoid or softmax)."""
    outputs = np.asarray(outputs, float)
    if task == "binary":
        p = outputs.reshape(len(outputs), -1)[:, 0]
        return np.stack([1.0 - p, p], axis=1)
    return outputs


def _one_hot(y, n_classes):
    return np.eye(n_classes)[np.asarray(y).astype(int).ravel()]


def per_row(measure, task, y, outputs, onehot=None):
    """The per-row values of a row-wise measure (not ``auc`` / ``r2``); ``onehot``: the
    classes of ``y`` one-hot, if already at hand."""
    if task == "poisson":
        y, mu = np.asarray(y, float).ravel(), np.asarray(outputs, float).reshape(len(y), -1)[:, 0]
        if measure == "deviance":  # 2 (y log(y / mu) - (y - mu)), y log y = 0 at y = 0
            with np.errstate(divide="ignore", invalid="ignore"):
                ylog = np.where(y > 0, y * np.log(y / np.maximum(mu, 1e-300)), 0.0)
            return 2.0 * (ylog - (y - mu))
        return np.abs(y - mu) if measure == "mae" else np.square(y - mu)
    if task == "regression":
        y = np.asarray(y, float).reshape(len(y), -1)
        err = y - np.asarray(outputs, float).reshape(len(y), -1)
        if measure == "mae":
            return np.abs(err).sum(axis=1)
        return np.square(err).sum(axis=1)  # deviance, mse
    prob = _probabilities(task, outputs)
    if measure == "class":
        predicted = (prob[:, 1] > 0.5).astype(int) if task == "binary" else prob.argmax(axis=1)
        return (predicted != np.asarray(y).astype(int).ravel()).astype(float)
    if measure == "deviance":  # only the true class's probability counts
        truth = np.take_along_axis(prob, np.asarray(y).astype(int).reshape(-1, 1), axis=1)[:, 0]
        return -2.0 * np.log(np.clip(truth, PROB_CLIP, 1.0 - PROB_CLIP))
    onehot = _one_hot(y, prob.shape[1]) if onehot is None else onehot
    if measure == "mse":
        return np.square(onehot - prob).sum(axis=1)
    return np.abs(onehot - prob).sum(axis=1)  # mae


def auc(y, score, weight=None) -> float:
    """Weighted area under the ROC curve; tied scores count one half. NaN with one class."""
    y = np.asarray(y).astype(int).ravel()
    score = np.asarray(score).ravel()
    score = score if score.dtype.kind == "f" else score.astype(float)  # float32 sorts faster, same ties
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, float)
    pos, neg = weight * (y == 1), weight * (y == 0)
    if pos.sum() <= 0 or neg.sum() <= 0:
        return float("nan")
    values, inverse = np.unique(score, return_inverse=True)
    pos_at = np.bincount(inverse, weights=pos, minlength=len(values))
    neg_at = np.bincount(inverse, weights=neg, minlength=len(values))
    below = np.cumsum(neg_at) - neg_at  # negative weight strictly below each score
    return float(np.sum(pos_at * (below + 0.5 * neg_at)) / (pos.sum() * neg.sum()))


def _r2(y, outputs, weight) -> float:
    y = np.asarray(y, float).reshape(len(y), -1)
    pred = np.asarray(outputs, float).reshape(len(y), -1)
    w = weight[:, None]
    mean = (w * y).sum(axis=0) / weight.sum()
    sst = (w * np.square(y - mean)).sum(axis=0)
    sse = (w * np.square(y - pred)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.mean(1.0 - sse / np.where(sst > 0, sst, np.nan)))


def fold_value(measure, task, y, outputs, weight=None, onehot=None) -> float:
    """The measure on one fold: ``y`` its targets, ``outputs`` the member's outputs there."""
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, float)
    if task == "cox":  # fold-level: the fold's own rows are the risk sets
        from ..survival import c_index, cox_deviance

        return cox_deviance(y, outputs, weight) if measure == "deviance" else c_index(y, outputs, weight)
    if measure == "auc":  # the outputs' own precision: a binary model's one column
        score = np.asarray(outputs)
        score = score.reshape(len(score), -1)[:, 0] if task == "binary" else _probabilities(task, score)[:, 1]
        return auc(y, score, weight)
    if measure == "r2":
        return _r2(y, outputs, weight)
    if weight.sum() <= 0:
        return float("nan")
    return float(np.sum(weight * per_row(measure, task, y, outputs, onehot)) / weight.sum())


def _shared_rows(index, valid, members):
    """``members`` with the same validation rows (a fold's strengths), grouped: ``[(members, rows)]``."""
    groups = []
    for k in members:
        rows = index[k][valid[k]]
        for members, known in groups:
            if len(known) == len(rows) and np.array_equal(known, rows):
                members.append(k)
                break
        else:
            groups.append(([k], rows))
    return groups


def host_values(names, task, y, index, outputs, valid, weight=None, members=None):
    """``{measure: [K]}``: every measure in ``names`` of every member on its own fold, on the host.

    ``index [K, V]``, ``outputs [K, V, o]`` and ``valid [K, V]`` are
    :class:`kerasnet.path.MemberFit`'s ``val_outputs``; ``y`` and ``weight`` are per row;
    ``members`` (None: all) the members to score, in the order of the values returned (no copy
    of the arrays is made for them).
    Members sharing their rows share the rows' targets, weights and one-hot classes (gathered
    once), and each member's outputs are gathered and checked once for all the measures. One
    member at a time: memory stays one fold's rows (what a CPU backend, whose device is this
    memory, runs; :func:`device_values` is the accelerator's).
    """
    names = tuple(names)
    y = np.asarray(y)
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, float)
    members = np.arange(len(index)) if members is None else np.asarray(members, int)
    position = {int(k): i for i, k in enumerate(members)}
    values = {name: np.full(len(members), np.nan) for name in names}
    classes = task in ("binary", "multiclass") and any(name in ("mse", "mae") for name in names)
    for group, rows in _shared_rows(index, valid, members):
        if not len(rows):
            continue
        y_rows, w_rows = y[rows], weight[rows]
        onehot = None
        for k in group:
            out = outputs[k][valid[k]]
            if not np.all(np.isfinite(out)):
                continue
            if onehot is None and classes:
                onehot = _one_hot(y_rows, _probabilities(task, out[:1]).shape[1])
            for name in names:
                values[name][position[int(k)]] = fold_value(name, task, y_rows, out, w_rows, onehot)
    return values


def fold_values(measure, task, y, index, outputs, valid, weight=None):
    """The measure of every member on its own fold: ``[K]`` (:func:`host_values` of one measure).

    ``index [K, V]``, ``outputs [K, V, o]`` and ``valid [K, V]`` are
    :class:`kerasnet.path.MemberFit`'s ``val_outputs``; ``y`` and ``weight`` are per row.
    Members sharing their rows share the rows' targets and weights (gathered once).
    """
    return host_values([measure], task, y, index, outputs, valid, weight)[measure]


def cross_validated(val_outputs, is_cv, y, task, weight, L, F, keep):
    """Every applicable measure ``[L, F]`` of the CV members on their test rows, and the
    out-of-fold predictions ``[L, n, o]`` (NaN where a row is in no test set) if ``keep``.

    On an accelerator every task but Cox scores its members there (:func:`device_values`: only
    ``[K]`` values come back); on a CPU backend, and for Cox (its risk sets, Harrell's pairs),
    on the host (:func:`host_values`), where XLA's CPU sort is slower than NumPy's and a
    program compiled per fold size (float64) costs seconds of compilation.
    """
    names = [m for m, (_, tasks, _) in MEASURES.items() if task in tasks]
    everyone = tuple(np.asarray(a) for a in val_outputs)
    everyone = everyone[0], everyone[1].reshape(everyone[1].shape[0], everyone[1].shape[1], -1), everyone[2]
    cv = np.flatnonzero(is_cv)
    if task != "cox" and on_accelerator():
        values = device_values(names, task, y, *(a[cv] for a in everyone), weight)
    else:  # the CV members read in place: no copy of the members' outputs (memory at 10^6 rows)
        values = host_values(names, task, y, *everyone, weight, members=cv)
    values = {m: values[m].reshape(L, F) for m in names}
    oof = None
    if keep:  # each row: the mean of the members' predictions whose test set holds it
        index, outputs, valid = (a[cv] for a in everyone)
        strength = np.broadcast_to((np.arange(len(index)) // F)[:, None], index.shape)[valid]
        flat = strength * len(y) + index[valid]
        kept, size = outputs[valid].astype(float), L * len(y)
        total = np.stack([np.bincount(flat, kept[:, j], size) for j in range(kept.shape[1])], axis=1)
        count = np.bincount(flat, minlength=size)[:, None]
        with np.errstate(invalid="ignore"):
            oof = (total / count).reshape(L, len(y), -1)
    return values, oof
