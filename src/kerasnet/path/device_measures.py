"""The CV measures of every member at once on an accelerator: float64 reductions on the device.

:func:`kerasnet.path.measures.cross_validated` calls :func:`device_values` where the backend
computes on a GPU or a TPU (:func:`on_accelerator`), for every task but Cox: each member's rows
are gathered, scored and reduced there, vectorized over members in blocks of
:data:`DEVICE_ELEMENTS` members x rows, the AUC's sort and tie groups included; only ``[K]``
values come back. On a CPU backend the host's :func:`kerasnet.path.measures.host_values` is
faster (XLA's CPU sort, a float64 program compiled per fold size) and keeps memory to one
fold's rows. The two agree to float64 rounding (``tests/test_measures.py``).
"""

from __future__ import annotations

import numpy as np

from .measure_names import PROB_CLIP

__all__ = ["DEVICE_ELEMENTS", "device_values", "on_accelerator"]


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


