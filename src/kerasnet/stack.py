"""Stacked training: K members of one MLP held as one Keras model, each trained as if alone.

Every ``Dense`` kernel gets a leading member axis (``[K, in, out]``), biases ``[K, out]``,
and the forward pass is one ``keras.ops.einsum`` per layer. The training objective is the
sum over members of each member's own objective (mean data loss over *its* rows in the
batch plus *its* penalty), so the gradient each member receives is exactly the one it
would receive alone; Adam's state is per weight, and its step counter is kept per member,
so member ``k`` trained here follows the same trajectory as the same network trained
alone by ``model.fit`` on the same batches (tested to float tolerance).

The training loop is ours rather than ``model.fit``'s because members need things Keras's
loop has no place for: a row mask per member (cross-validation folds), per-member early
stopping with best-weights restore, per-member divergence, per-member epoch budgets.
Everything numeric is ``keras.ops``; the compiled step and the only backend-specific code
(automatic differentiation and compilation) live in :mod:`kerasnet._stack_engine`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import ops

from . import _stopping
from ._stack_engine import dense, epoch_batches, shuffle_keys
from ._stack_engine import engine as _engine_for
from .models import TASKS

__all__ = ["StackedDense", "StackedMLP", "StackFit", "fit_stack", "member_predictions"]

_OUTPUT_ACTIVATION = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}


@keras.saving.register_keras_serializable(package="kerasnet")
class StackedDense(keras.layers.Layer):
    """``K`` independent ``Dense`` layers applied to ``K`` inputs: ``y_k = act(x_k @ W_k + b_k)``.

    Parameters
    ----------
    members : int
        Number of members ``K``.
    units : int
        Output units of each member.
    activation : str, default None
    seed : int or None, default None
        Seeds the Glorot-uniform initial kernels (each member its own draw).
    """

    def __init__(self, members, units, activation=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.members = int(members)
        self.units = int(units)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        n_in = int(input_shape[-1])
        # Glorot-uniform per member, drawn with numpy: Keras's random initializers compile a
        # kernel per shape on JAX (seconds), and callers usually set the weights anyway.
        limit = math.sqrt(6.0 / (n_in + self.units))
        rng = np.random.default_rng(self.seed)

        def glorot(shape, dtype=None):
            return rng.uniform(-limit, limit, size=shape).astype("float32")

        self.kernel = self.add_weight(
            name="kernel", shape=(self.members, n_in, self.units), initializer=glorot
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.members, self.units), initializer=_numpy_zeros
        )

    def call(self, x):
        return self.activation(dense(x, self.kernel, self.bias))

    def get_config(self):
        config = super().get_config()
        config.update(
            members=self.members,
            units=self.units,
            activation=keras.activations.serialize(self.activation),
            seed=self.seed,
        )
        return config


def _numpy_zeros(shape, dtype=None):
    return np.zeros(shape, "float32")


@keras.saving.register_keras_serializable(package="kerasnet")
class StackedMLP(keras.Model):
    """``members`` copies of :func:`kerasnet.mlp`'s network as one model.

    Input ``[K, batch, n_inputs]`` (one batch per member) or ``[batch, n_inputs]`` (the same
    rows for every member); output ``[K, batch, n_outputs]``. Member ``k``'s weights are
    ``member_weights(k)``, in the order of ``kerasnet.mlp(...).get_weights()``.

    Parameters
    ----------
    members : int
    n_inputs : int
    n_outputs : int, default 1
    hidden : sequence of int, default (64, 64)
    task : {"binary", "multiclass", "regression"}, default "binary"
    activation : str, default "relu"
    seed : int or None, default None
        Seeds the initial kernels (Glorot uniform, each member its own draw).

    Examples
    --------
    >>> stack = StackedMLP(4, n_inputs=3, hidden=(5,))
    >>> tuple(stack(np.zeros((2, 3), "float32")).shape)
    (4, 2, 1)
    """

    def __init__(self, members, n_inputs, n_outputs=1, hidden=(64, 64), task="binary",
                 activation="relu", seed=None, **kwargs):
        super().__init__(**kwargs)
        if task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}; received task={task!r}.")
        self.members, self.n_inputs, self.n_outputs = int(members), int(n_inputs), int(n_outputs)
        self.hidden, self.task, self.hidden_activation = tuple(int(h) for h in hidden), task, activation
        acts = [activation] * len(self.hidden) + [_OUTPUT_ACTIVATION[task]]
        names = [f"hidden_{i + 1}" for i in range(len(self.hidden))] + ["output"]
        units = list(self.hidden) + [self.n_outputs]
        self.seed = seed
        self.dense_layers = [
            StackedDense(self.members, u, activation=a, seed=None if seed is None else seed + i, name=nm)
            for i, (u, a, nm) in enumerate(zip(units, acts, names, strict=True))
        ]
        self.build((self.members, None, self.n_inputs))

    def build(self, input_shape):
        shape = (self.members, None, self.n_inputs)
        for layer in self.dense_layers:
            layer.build(shape)
            shape = (self.members, None, layer.units)
        self.built = True

    def call(self, x):
        if len(x.shape) == 2:
            x = ops.broadcast_to(ops.expand_dims(x, 0), (self.members,) + tuple(x.shape))
        for layer in self.dense_layers:
            x = layer(x)
        return x

    @property
    def activations(self):
        return [layer.activation for layer in self.dense_layers]

    def member_weights(self, k):
        """Member ``k``'s weights as numpy arrays, ordered like ``kerasnet.mlp(...).get_weights()``."""
        out = []
        for layer in self.dense_layers:
            out += [ops.convert_to_numpy(layer.kernel)[k], ops.convert_to_numpy(layer.bias)[k]]
        return out

    def set_member_weights(self, k, weights):
        """Set member ``k`` from a list like ``kerasnet.mlp(...).get_weights()``."""
        for i, layer in enumerate(self.dense_layers):
            for var, new in ((layer.kernel, weights[2 * i]), (layer.bias, weights[2 * i + 1])):
                value = ops.convert_to_numpy(var).copy()
                value[k] = np.asarray(new, dtype=value.dtype)
                var.assign(value)

    def get_config(self):
        config = super().get_config()
        config.update(members=self.members, n_inputs=self.n_inputs, n_outputs=self.n_outputs,
                      hidden=list(self.hidden), task=self.task, activation=self.hidden_activation,
                      seed=self.seed)
        return config


@dataclass
class StackFit:
    """What :func:`fit_stack` learned about each member (arrays have a member axis ``K``).

    Attributes
    ----------
    loss : ndarray [epochs_run, K]
        Mean training objective (data loss + penalty) over each epoch's steps; NaN when
        the member did not train that epoch.
    val_loss, val_score : ndarray [epochs_run, K] or None
        Validation data loss (penalty excluded) and score (accuracy, or R^2 for
        regression) on each member's validation rows, after each epoch.
    val_objective : ndarray [epochs_run, K] or None
        ``val_loss`` + the member's penalty: Keras's own ``val_loss``, which early
        stopping monitors.
    best_epoch : ndarray [K] int
        Epoch (1-based) of the restored weights: lowest ``val_objective``, or the last
        epoch trained when there is no validation.
    best_val_loss, best_val_score : ndarray [K]
    epochs_trained : ndarray [K] int
    diverged : ndarray [K] bool
        True when the member's loss became NaN or infinite; it stopped training there.
    chosen_epoch : ndarray [K] int or None
        With ``stop_groups``: the best epoch of the member's group's all-folds mean
        validation objective (what a refit on all rows should train for); else
        ``best_epoch``.
    """

    loss: np.ndarray
    val_loss: np.ndarray | None
    val_score: np.ndarray | None
    best_epoch: np.ndarray
    best_val_loss: np.ndarray
    best_val_score: np.ndarray
    epochs_trained: np.ndarray
    diverged: np.ndarray
    val_objective: np.ndarray | None = None
    chosen_epoch: np.ndarray | None = None
    extra: dict = field(default_factory=dict)


def fit_stack(
    model,
    X,
    y,
    *,
    l1,
    l2,
    train_mask=None,
    val_mask=None,
    mean=None,
    scale=None,
    y_mean=None,
    y_scale=None,
    epochs=100,
    max_epochs=None,
    batch_size=32,
    learning_rate=1e-3,
    optimizer="adam",
    proximal=False,
    shuffle=True,
    early_stopping=True,
    patience=10,
    seed=None,
    streams=None,
    callback=None,
    sample_weight=None,
    stop_groups=None,
):
    """Train every member of ``model`` (a :class:`StackedMLP`) in one loop; weights set in place.

    Member ``k`` minimizes ``mean_{rows in batch and in train_mask[k]} loss + l1[k]*|W|_1 +
    l2[k]*|W|_2^2`` (kernels only) with its own Adam (or SGD) state, on inputs standardized
    as ``(X - mean[k]) / scale[k]``. Its validation loss and score are computed after each
    epoch on the rows of ``val_mask[k]``; with ``early_stopping`` it stops after ``patience``
    epochs without a lower validation objective (data loss + its penalty: Keras's
    ``val_loss``) and gets its best weights back. A member whose
    objective becomes NaN or infinite is marked diverged and stops; the others go on
    unaffected. Training ends when every member has stopped or ``epochs`` is reached.

    Parameters
    ----------
    model : StackedMLP
    X : array [n, d]
    y : array [n] (binary 0/1, multiclass int) or [n, o] (regression)
    l1, l2 : array [K]
        Per-member penalty strengths.
    train_mask, val_mask : bool array [K, n] or None
        Rows each member trains / is validated on (default: all rows / no validation).
    mean, scale : array [K, d] or None
        Per-member standardization (default: none).
    y_mean, y_scale : array [K, o] or None
        Regression only: member ``k`` fits ``(y - y_mean[k]) / y_scale[k]``; its losses and
        scores are in those units (R^2 is unchanged by the scaling).
    epochs : int, default 100
    max_epochs : int array [K] or None
        Per-member epoch budget (refits), at most ``epochs``.
    batch_size : int, default 32
    learning_rate : float, default 1e-3
    optimizer : {"adam", "sgd"}, default "adam"
        Keras's ``Adam`` (default betas and epsilon) or plain ``SGD``, per member.
    proximal : bool, default False
        Apply L1 as a soft-threshold after each step instead of in the loss: threshold
        ``lr*l1`` for SGD (the exact proximal gradient step) and ``l1*lr*sqrt(1-beta_2**t)/
        (sqrt(v)+eps)`` per weight for Adam (:func:`kerasnet.proximal.adam_step_size`, as ``ProximalStep``).
    shuffle : bool, default True
    early_stopping : bool, default True
        Only with ``val_mask``.
    patience : int, default 10
    seed : int or None
        Seeds the batch order.
    streams : int array [K] or None
        Members with the same stream get the same row order each epoch (default: each
        member its own). A member's batches depend only on ``seed``, its stream and its
        rows, never on the other members.
    callback : callable or None
        ``callback(epoch, logs)`` after each epoch, ``logs`` a dict of per-member arrays.
    sample_weight : array [n] or None
        Row weights: a member's data loss on a batch is the weighted mean
        ``sum(w_i loss_i) / sum(w_i)`` over its rows there, its validation numbers are weighted
        means over its validation rows. None weighs rows equally.
    stop_groups : int array [K] or None
        Cross-fit early stopping (:mod:`kerasnet._stopping`): members sharing a group are
        the CV folds of one strength, and each keeps its weights at the best epoch of the
        *other* folds' mean validation objective, so neither its epoch nor its stop sees its
        own validation rows. ``-1`` or None: each member stops on its own curve.

    Returns
    -------
    StackFit
    """
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd'; received optimizer={optimizer!r}.")
    X = np.asarray(X, dtype="float32")
    n, d = X.shape
    K = model.members
    y = np.asarray(y)
    y = y.astype("int32") if model.task == "multiclass" else y.astype("float32").reshape(n, -1)
    train_mask = np.ones((K, n), bool) if train_mask is None else np.asarray(train_mask, bool)
    has_val = val_mask is not None
    mean = np.zeros((K, d), "float32") if mean is None else np.asarray(mean, "float32")
    scale = np.ones((K, d), "float32") if scale is None else np.asarray(scale, "float32")
    l1 = np.broadcast_to(np.asarray(l1, "float32"), (K,)).copy()
    l2 = np.broadcast_to(np.asarray(l2, "float32"), (K,)).copy()
    budget = np.full(K, epochs) if max_epochs is None else np.minimum(np.asarray(max_epochs), epochs)
    early_stopping = bool(early_stopping and has_val)
    sw = np.ones(n, "float32") if sample_weight is None else np.asarray(sample_weight, "float32")

    engine = _engine_for(tuple(model.activations), model.task, optimizer, bool(proximal),
                         float(learning_rate))
    params = [ops.convert_to_tensor(v.value) for v in model.trainable_variables]
    state = {}
    if optimizer == "adam":
        # numpy zeros: eager zeros_like would compile one XLA kernel per shape on JAX.
        zeros = [np.zeros(tuple(p.shape), "float32") for p in params]
        state = {"t": ops.convert_to_tensor(np.zeros(K, "float32")),
                 "m": [ops.convert_to_tensor(z) for z in zeros],
                 "v": [ops.convert_to_tensor(z.copy()) for z in zeros]}
    Xt, yt = ops.convert_to_tensor(X), ops.convert_to_tensor(y)
    o = y.shape[1] if y.ndim == 2 else 1
    y_mean = np.zeros((K, o), "float32") if y_mean is None else np.asarray(y_mean, "float32").reshape(K, o)
    y_scale = np.ones((K, o), "float32") if y_scale is None else np.asarray(y_scale, "float32").reshape(K, o)
    norm = tuple(ops.convert_to_tensor(a) for a in (mean, scale, y_mean, y_scale))
    l1t, l2t = ops.convert_to_tensor(l1), ops.convert_to_tensor(l2)
    if has_val:
        val_mask = np.asarray(val_mask, bool)
        # Members without validation rows (e.g. refits trained alongside) get NaN scores,
        # are never early-stopped and keep their latest weights.
        validated = val_mask.any(axis=1)
        # Each member's validation rows, padded to a common width with weight 0.
        vidx, vw = epoch_batches(np.zeros((K, n)), val_mask, int(max(val_mask.sum(axis=1).max(), 1)))
        vw = vw[0] * sw[vidx[0]]
        n_val = np.where(vw.sum(axis=1) > 0, vw.sum(axis=1), 1.0)  # total weight of each fold
        vidx, wv = ops.convert_to_tensor(vidx[0]), ops.convert_to_tensor(vw)
    seed = int(np.random.default_rng().integers(2**31)) if seed is None else int(seed)
    streams = np.arange(K) if streams is None else np.asarray(streams)

    running = budget > 0
    diverged = np.zeros(K, bool)
    best_loss = np.full(K, np.inf)
    best_score = np.full(K, np.nan)
    trained = np.zeros(K, int)
    best = list(params)
    last_loss, last_score = np.full(K, np.nan), np.full(K, np.nan)
    hist_loss, hist_vl, hist_vs, hist_vo = [], [], [], []
    stopping = _stopping.EarlyStopping(validated if has_val else np.zeros(K, bool), patience,
                                       groups=stop_groups, fold_weight=n_val if has_val else None,
                                       enabled=early_stopping)

    for epoch in range(epochs):
        if not running.any():
            break
        keys = shuffle_keys(n, streams, seed, epoch, shuffle)
        idx, w = epoch_batches(keys, train_mask, batch_size)
        has_rows = w.sum(axis=2) > 0  # [S, K]
        active = (running[None, :] & has_rows).astype("float32")
        w = w * sw[idx]  # padding has weight 0; rows their own weight
        params, state, members = engine.epoch(
            params, state, Xt, yt, norm, ops.convert_to_tensor(idx),
            ops.convert_to_tensor(w), ops.convert_to_tensor(active), l1t, l2t,
        )
        members = ops.convert_to_numpy(members)
        total = np.where(active > 0, members, 0.0).sum(axis=0)
        steps = active.sum(axis=0)
        trained[running] += 1
        loss = np.where(steps > 0, total / np.maximum(steps, 1), np.nan)
        newly = running & ~np.isfinite(loss)
        logs = {"loss": loss}
        if has_val:
            sums = engine.evaluate(params, Xt, yt, norm, vidx, wv, l1t, l2t)
            pen, vl, a, b, c = (ops.convert_to_numpy(t) for t in sums)
            vl = vl / n_val
            if model.task == "regression":
                sst = c - np.square(b) / n_val[:, None]
                vs = np.mean(1.0 - a / np.where(sst > 0, sst, np.nan), axis=1)
            else:
                vs = a / n_val
            vl = np.where(running & validated, vl, np.nan)
            vs = np.where(running & validated, vs, np.nan)
            newly |= running & validated & ~np.isfinite(vl)
            # Keras's val_loss: data loss + penalty. Early stopping watches it, so a strongly
            # penalized member keeps shrinking instead of being stopped before the penalty acts.
            vo = vl + pen
            last_loss = np.where(running, vl, last_loss)
            last_score = np.where(running, vs, last_score)
            logs.update(val_loss=vl, val_score=vs, val_objective=vo)
            hist_vo.append(vo)
            hist_vl.append(vl)
            hist_vs.append(vs)
        diverged |= newly
        running &= ~newly
        objective = vo if has_val else np.full(K, np.nan)
        keep, stop = stopping.update(epoch, np.where(running, objective, np.nan), running)
        if has_val:
            best_loss = np.where(keep & validated, vl, best_loss)
            best_score = np.where(keep & validated, vs, best_score)
            if early_stopping:
                best = engine.keep_best(best, params, keep.astype("float32"))
        running &= ~stop
        hist_loss.append(loss)
        running &= trained < budget
        if callback is not None:
            logs.update(running=running.copy(), diverged=diverged.copy(), best_val_score=best_score)
            callback(epoch, logs)

    final = best if early_stopping else params
    best_epoch = stopping.best_epoch
    chosen_epoch = stopping.chosen_epoch()
    if not early_stopping:
        # The weights returned are the last ones: report their validation numbers.
        best_epoch, best_loss, best_score = trained.copy(), last_loss, last_score
        chosen_epoch = trained.copy()
    for var, value in zip(model.trainable_variables, final, strict=True):
        var.assign(value)
    return StackFit(
        loss=np.array(hist_loss).reshape(-1, K),
        val_loss=np.array(hist_vl).reshape(-1, K) if has_val else None,
        val_score=np.array(hist_vs).reshape(-1, K) if has_val else None,
        val_objective=np.array(hist_vo).reshape(-1, K) if has_val else None,
        best_epoch=best_epoch,
        best_val_loss=best_loss,
        best_val_score=best_score,
        epochs_trained=trained,
        diverged=diverged,
        chosen_epoch=chosen_epoch,
    )


def member_predictions(model, X, rows, *, mean=None, scale=None, y_mean=None, y_scale=None, chunk=4096):
    """Each member's outputs on its own rows: ``(index [K, V], outputs [K, V, o], valid [K, V])``.

    Member ``k`` predicts the rows where ``rows[k]`` is True (padded to a common width ``V``;
    ``valid`` marks the real entries), on inputs standardized as in :func:`fit_stack`;
    regression outputs are in ``y``'s units (``* y_scale[k] + y_mean[k]``). Rows are taken
    in chunks of ``chunk`` per member, so memory stays ``K x chunk`` per step.
    """
    X = np.asarray(X, dtype="float32")
    n, d = X.shape
    K = model.members
    rows = np.asarray(rows, bool)
    o = model.n_outputs
    mean = np.zeros((K, d), "float32") if mean is None else np.asarray(mean, "float32")
    scale = np.ones((K, d), "float32") if scale is None else np.asarray(scale, "float32")
    y_mean = np.zeros((K, o), "float32") if y_mean is None else np.asarray(y_mean, "float32").reshape(K, -1)
    y_scale = np.ones((K, o), "float32") if y_scale is None else np.asarray(y_scale, "float32").reshape(K, -1)
    width = int(max(rows.sum(axis=1).max(), 1))
    idx, valid = epoch_batches(np.zeros((K, n)), rows, width)
    idx, valid = idx[0], valid[0] > 0
    engine = _engine_for(tuple(model.activations), model.task, "sgd", False, 1.0)
    params = [ops.convert_to_tensor(v.value) for v in model.trainable_variables]
    norm = tuple(ops.convert_to_tensor(a) for a in (mean, scale, y_mean, y_scale))
    Xt = ops.convert_to_tensor(X)
    parts = []
    for start in range(0, width, chunk):
        block = idx[:, start:start + chunk]
        if block.shape[1] < chunk and width > chunk:  # one compiled shape for every chunk
            block = np.pad(block, ((0, 0), (0, chunk - block.shape[1])))
        parts.append(ops.convert_to_numpy(engine.predict(params, Xt, norm, ops.convert_to_tensor(block))))
    outputs = np.concatenate(parts, axis=1)[:, :width]
    return idx, outputs, valid
