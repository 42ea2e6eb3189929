"""Cross-validation measures, computed as R's glmnet does (``type.measure``).

Each measure is a weighted mean over a fold's rows of a per-row value (glmnet's
``grouped=TRUE``: one number per fold, folds weighted by their total row weight), except
``auc`` and ``r2``, which are computed per fold as a whole.

:func:`cross_validated` (what :func:`kerasnet.fit_path` calls) scores all members at once on
an accelerator (:func:`device_values`: float64 reductions over each member's rows, vectorized
over members, compiled on JAX, the AUC's sort there too) and on the host otherwise
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

from .measure_names import MEASURES, check_measure, greater_is_better, label

__all__ = ["MEASURES", "check_measure", "cross_validated", "device_values", "fold_values", "host_values",
           "on_accelerator", "greater_is_better", "label"]

PROB_CLIP = 1e-5  # glmnet's prob_min


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


def on_accelerator() -> bool:
    """True when the backend computes on an accelerator (a GPU, a TPU), not on this CPU."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return jax.default_backend() != "cpu"
    if keras.backend.backend() == "torch":
        import torch  # Keras's torch backend takes CUDA, then Apple's MPS, when there is one

        mps = getattr(torch.backends, "mps", None)
        return torch.cuda.is_available() or bool(mps is not None and mps.is_available())
    return False


#: Elements ``members x rows`` in one device call of :func:`device_values` (bounds its float64
#: temporaries: a few hundred MB at most).
DEVICE_ELEMENTS = 1 << 23

_COMPILED = {}


def _at_least(x, bound):
    """``max(x, bound)`` with the bound in ``x``'s precision (Keras's torch ``maximum`` and
    ``clip`` take a Python bound as float32: 1e-300 would be 0)."""
    from keras import ops

    bound = ops.full_like(x, bound)
    return ops.where(x < bound, bound, x)


def _cumsum(x, axis):
    """``ops.cumsum`` in ``x``'s precision (Keras's torch ``cumsum`` returns float32, and its
    ``segment_sum`` rounds through it: torch's own ops keep float64)."""
    import keras
    from keras import ops

    if keras.backend.backend() == "torch":
        import torch

        return torch.cumsum(x, dim=axis)
    return ops.cumsum(x, axis=axis)


def _segment_sum(values, ids, count):
    import keras
    from keras import ops

    if keras.backend.backend() == "torch":
        import torch

        return torch.zeros(count, dtype=values.dtype, device=values.device).index_add_(0, ids.long(), values)
    return ops.segment_sum(values, ids, num_segments=count, sorted=True)


def _member_values(task, names, n_classes, y, weight, index, outputs, valid):
    """Every measure in ``names`` of members ``[B]`` at once, as backend tensors (float64):
    the device's half of :func:`device_values` (``outputs [B, V, o]``, ``index``/``valid [B, V]``,
    ``y [n, ...]`` and ``weight [n]`` all rows). Keras's ``ops.mean``, and on torch ``cumsum``,
    ``segment_sum``, ``maximum`` and ``clip`` with a Python bound, round through float32: the
    helpers below keep float64."""
    from keras import ops

    V = index.shape[1]
    w = ops.take(weight, index, axis=0) * ops.cast(valid, "float64")  # [B, V]
    finite = ops.all(ops.logical_or(ops.all(ops.isfinite(outputs), axis=2), ops.logical_not(valid)), axis=1)
    outputs = ops.where(ops.isfinite(outputs), outputs, 0.5)  # a diverged member: its value is NaN below
    total = ops.sum(w, axis=1)
    some = total > 0
    nan = ops.full_like(total, float("nan"))

    def mean(per):  # glmnet's grouped value: the fold's weighted mean of a per-row value
        return ops.where(some, ops.sum(w * per, axis=1) / ops.where(some, total, 1.0), nan)

    values = {}
    if task in ("regression", "poisson"):
        y_rows = ops.reshape(ops.take(y, index, axis=0), (index.shape[0], V, -1))
        if task == "poisson":
            y_rows, outputs = y_rows[:, :, 0], outputs[:, :, 0]
        err = y_rows - outputs
        square, absolute = ops.square(err), ops.absolute(err)
        if task == "regression":
            square, absolute = ops.sum(square, axis=2), ops.sum(absolute, axis=2)
        for name in names:
            if name == "deviance" and task == "poisson":
                positive = y_rows > 0
                ratio = ops.where(positive, y_rows, 1.0) / _at_least(outputs, 1e-300)
                ylog = ops.where(positive, y_rows * ops.log(ratio), 0.0)
                values[name] = mean(2.0 * (ylog - err))
            elif name in ("deviance", "mse"):
                values[name] = mean(square)
            elif name == "mae":
                values[name] = mean(absolute)
            elif name == "r2":  # 1 - SSE / SST around the fold's own weighted mean, outputs averaged
                w3 = w[:, :, None]
                centre = ops.sum(w3 * y_rows, axis=1) / ops.where(some, total, 1.0)[:, None]
                sst = ops.sum(w3 * ops.square(y_rows - centre[:, None, :]), axis=1)
                sse = ops.sum(w3 * ops.square(err), axis=1)
                ratio = sse / ops.where(sst > 0, sst, 1.0)
                # a sum over outputs, not ops.mean (Keras's mean computes in float32 on JAX)
                r2 = ops.sum(ops.where(sst > 0, 1.0 - ratio, float("nan")), axis=1) / sst.shape[1]
                values[name] = ops.where(some, r2, nan)
    else:
        labels = ops.cast(ops.take(y, index, axis=0), "int32")  # [B, V]
        if task == "binary":
            p = outputs[:, :, 0]
            prob = ops.stack([1.0 - p, p], axis=2)
        else:
            prob = outputs
        onehot = ops.one_hot(labels, n_classes, dtype="float64")
        for name in names:
            if name == "deviance":
                truth = ops.sum(onehot * prob, axis=2)
                truth = -_at_least(-_at_least(truth, PROB_CLIP), -(1.0 - PROB_CLIP))  # clipped
                values[name] = mean(-2.0 * ops.log(truth))
            elif name == "class":
                predicted = ops.cast(prob[:, :, 1] > 0.5, "int32") if task == "binary" else \
                    ops.cast(ops.argmax(prob, axis=2), "int32")
                values[name] = mean(ops.cast(ops.not_equal(predicted, labels), "float64"))
            elif name == "mse":
                values[name] = mean(ops.sum(ops.square(onehot - prob), axis=2))
            elif name == "mae":
                values[name] = mean(ops.sum(ops.absolute(onehot - prob), axis=2))
            elif name == "auc":
                values[name] = _member_auc(prob[:, :, 1], onehot[:, :, 1] * w, onehot[:, :, 0] * w)
    return {name: ops.where(finite, value, nan) for name, value in values.items()}


def _member_auc(score, pos, neg):
    """Each member's weighted AUC ``[B]`` (tied scores count one half; NaN with one class), as
    :func:`auc`: rows sorted by score, the weights summed per distinct score."""
    from keras import ops

    B, V = score.shape
    order = ops.argsort(score, axis=1)
    score, pos, neg = (ops.take_along_axis(a, order, axis=1) for a in (score, pos, neg))
    new = ops.concatenate([ops.ones((B, 1), "int32"),
                           ops.cast(ops.not_equal(score[:, 1:], score[:, :-1]), "int32")], axis=1)
    ids = ops.reshape(_cumsum(new, 1) - 1 + ops.arange(B, dtype="int32")[:, None] * V, (-1,))
    pos_at, neg_at = (ops.reshape(_segment_sum(ops.reshape(a, (-1,)), ids, B * V), (B, V))
                      for a in (pos, neg))
    below = _cumsum(neg_at, 1) - neg_at  # negative weight strictly below each score
    positives, negatives = ops.sum(pos, axis=1), ops.sum(neg, axis=1)
    both = ops.logical_and(positives > 0, negatives > 0)
    area = ops.sum(pos_at * (below + 0.5 * neg_at), axis=1) / ops.where(both, positives * negatives, 1.0)
    return ops.where(both, area, ops.full_like(area, float("nan")))


def _numpy(tensor):
    if hasattr(tensor, "detach"):  # torch: through the CPU (its ``__array__`` warns under NumPy 2)
        return tensor.detach().cpu().numpy()
    return np.asarray(tensor)


def device_values(names, task, y, index, outputs, valid, weight=None):
    """``{measure: [K]}``: :func:`fold_values` of every measure in ``names`` at once, on the
    backend's device (float64; JAX: one compiled program per shape), vectorized over members.

    The host sends the outputs and all rows' targets and weights once; each member's rows are
    gathered, scored and reduced there (AUC's sort too), and only ``[K]`` values come back.
    Members go in blocks of at most :data:`DEVICE_ELEMENTS` members x rows (a last block padded
    with empty members), so memory stays bounded on large paths.
    """
    import keras
    from keras import ops

    names = tuple(names)
    K, V = index.shape
    y = np.asarray(y)
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, float)
    outputs = np.asarray(outputs).reshape(K, V, -1)
    n_classes = max(2, outputs.shape[2]) if task in ("binary", "multiclass") else 0
    values = {name: np.full(K, np.nan) for name in names}
    if K == 0 or V == 0:
        return values
    block = max(1, min(K, DEVICE_ELEMENTS // V))
    padded = -(-K // block) * block
    pad = ((0, padded - K), (0, 0))
    index, valid = np.pad(index, pad), np.pad(np.asarray(valid, bool), pad)
    outputs = np.pad(outputs, pad + ((0, 0),))
    jax = keras.backend.backend() == "jax"
    if jax:
        import jax as jx

        key = (names, task, n_classes)
        if key not in _COMPILED:
            _COMPILED[key] = jx.jit(lambda *a: _member_values(task, names, n_classes, *a))
        run, context = _COMPILED[key], jx.enable_x64(True)
        put = jx.device_put
    else:
        import contextlib

        run = lambda *a: _member_values(task, names, n_classes, *a)  # noqa: E731
        context = contextlib.nullcontext()
        put = ops.convert_to_tensor
    targets = y.astype("float64") if task in ("regression", "poisson") else y.astype("int32")
    with context:
        y_d, w_d = put(targets), put(weight.astype("float64"))
        for a in range(0, padded, block):
            rows = slice(a, a + block)
            part = run(y_d, w_d, put(index[rows].astype("int32")), put(outputs[rows].astype("float64")),
                       put(valid[rows]))
            for name in names:
                values[name][a:a + block] = _numpy(part[name])[:max(0, K - a)]
    return values


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
