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
Everything numeric is ``keras.ops``; the only backend-specific code is automatic
differentiation and compilation, in :func:`_value_and_grad` and :func:`_compile`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import ops

from .models import TASKS

__all__ = ["StackedDense", "StackedMLP", "StackFit", "fit_stack"]

_OUTPUT_ACTIVATION = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}
_ADAM = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}  # Keras's Adam defaults


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
        return self.activation(_dense(x, self.kernel, self.bias))

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


def _dense(x, kernel, bias):
    return ops.einsum("kbi,kio->kbo", x, kernel) + ops.expand_dims(bias, 1)


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


# --------------------------------------------------------------------------- backend-specific


def _value_and_grad(fn):
    """``params -> ((value, aux), grads)`` for a scalar ``fn(params) -> (value, aux)``."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.value_and_grad(fn, has_aux=True)
    if backend == "torch":
        import torch

        def value_and_grad(params):
            params = [p.detach().requires_grad_(True) for p in params]
            value, aux = fn(params)
            grads = torch.autograd.grad(value, params)
            return (value.detach(), tuple(a.detach() for a in aux)), list(grads)

        return value_and_grad
    if backend == "tensorflow":
        import tensorflow as tf

        def value_and_grad(params):
            params = [tf.Variable(p) for p in params]
            with tf.GradientTape() as tape:
                value, aux = fn(params)
            return (value, aux), tape.gradient(value, params)

        return value_and_grad
    raise NotImplementedError(f"fit_stack does not support the {backend!r} Keras backend.")


def _compile(fn):
    """Compile a pure function of tensors where the backend can (XLA on JAX)."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    return fn


# --------------------------------------------------------------------------- pure numerics


def _per_member(vec, like):
    """Reshape a ``[K]`` vector to broadcast against a ``[K, ...]`` tensor."""
    return ops.reshape(vec, (-1,) + (1,) * (len(like.shape) - 1))


def _forward(params, x, activations):
    for i, act in enumerate(activations):
        x = act(_dense(x, params[2 * i], params[2 * i + 1]))
    return x


def _per_sample_loss(task, y, pred):
    """Keras's loss functions, unreduced: ``[K, B]``."""
    if task == "binary":
        # Keras's clipped formula written out: torch's own BCE raises on NaN input, and a
        # diverged member must be flagged, not crash the other members' training.
        eps = keras.config.epsilon()
        p = ops.clip(pred, eps, 1.0 - eps)
        return -ops.mean(y * ops.log(p) + (1.0 - y) * ops.log(1.0 - p), axis=-1)
    if task == "multiclass":
        return keras.losses.sparse_categorical_crossentropy(y, pred)
    return keras.losses.mean_squared_error(y, pred)


def _penalty(params, l1, l2):
    """Per-member ``l1_k * sum|W_k| + l2_k * sum W_k**2`` over kernels (never biases)."""
    total = 0.0
    for kernel in params[0::2]:
        total = total + l1 * ops.sum(ops.abs(kernel), axis=(1, 2)) + l2 * ops.sum(
            ops.square(kernel), axis=(1, 2)
        )
    return total


def _soft_threshold(w, t):
    return ops.sign(w) * ops.maximum(ops.abs(w) - t, 0.0)


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
    best_epoch : ndarray [K] int
        Epoch (1-based) of the restored weights: lowest ``val_loss``, or the last epoch
        trained when there is no validation.
    best_val_loss, best_val_score : ndarray [K]
    epochs_trained : ndarray [K] int
    diverged : ndarray [K] bool
        True when the member's loss became NaN or infinite; it stopped training there.
    """

    loss: np.ndarray
    val_loss: np.ndarray | None
    val_score: np.ndarray | None
    best_epoch: np.ndarray
    best_val_loss: np.ndarray
    best_val_score: np.ndarray
    epochs_trained: np.ndarray
    diverged: np.ndarray
    extra: dict = field(default_factory=dict)


class _Engine:
    """Compiled step and evaluation functions for one stacked fit."""

    def __init__(self, activations, task, optimizer, proximal, lr):
        self.activations, self.task, self.optimizer = activations, task, optimizer
        self.proximal, self.lr = proximal, float(lr)
        self.step = _compile(self._step)
        self.epoch = _compile(self._epoch)
        self.evaluate = _compile(self._evaluate)
        self.keep_best = _compile(self._keep_best)

    def _objective(self, params, X, y, mean, scale, idx, w, l1, l2):
        xb = (ops.take(X, idx, axis=0) - ops.expand_dims(mean, 1)) / ops.expand_dims(scale, 1)
        yb = ops.take(y, idx, axis=0)
        per = _per_sample_loss(self.task, yb, _forward(params, xb, self.activations))
        data = ops.sum(per * w, axis=1) / ops.maximum(ops.sum(w, axis=1), 1.0)
        member = data + _penalty(params, 0.0 if self.proximal else l1, l2)
        # The sum's gradient w.r.t. member k's weights is member k's own gradient.
        return ops.sum(member), (member,)

    def _step(self, params, state, X, y, mean, scale, idx, w, active, l1, l2):
        (_, (member,)), grads = _value_and_grad(
            lambda p: self._objective(p, X, y, mean, scale, idx, w, l1, l2)
        )(params)
        lr = self.lr
        new_params, new_state = [], {}
        if self.optimizer == "adam":
            b1, b2, eps = _ADAM["beta_1"], _ADAM["beta_2"], _ADAM["epsilon"]
            t = state["t"] + active
            # Keras's Adam with a per-member step counter (a skipped step does not count).
            safe_t = ops.maximum(t, 1.0)
            alpha = lr * ops.sqrt(1.0 - ops.power(b2, safe_t)) / (1.0 - ops.power(b1, safe_t))
            new_state["t"], new_state["m"], new_state["v"] = t, [], []
            for i, (p, g, m, v) in enumerate(zip(params, grads, state["m"], state["v"], strict=True)):
                on = _per_member(active, p) > 0
                a = _per_member(alpha, p)
                m_new = m + (g - m) * (1.0 - b1)
                v_new = v + (ops.square(g) - v) * (1.0 - b2)
                denom = ops.sqrt(v_new) + eps
                p_new = p - m_new * a / denom
                if self.proximal and i % 2 == 0:
                    # Proximal step in Adam's metric diag(denom / alpha): threshold per weight.
                    p_new = _soft_threshold(p_new, _per_member(l1, p) * a / denom)
                new_params.append(ops.where(on, p_new, p))
                new_state["m"].append(ops.where(on, m_new, m))
                new_state["v"].append(ops.where(on, v_new, v))
        else:  # plain SGD
            for i, (p, g) in enumerate(zip(params, grads, strict=True)):
                on = _per_member(active, p) > 0
                p_new = p - lr * g
                if self.proximal and i % 2 == 0:
                    p_new = _soft_threshold(p_new, lr * _per_member(l1, p))
                new_params.append(ops.where(on, p_new, p))
        return new_params, new_state, member

    def _epoch(self, params, state, X, y, mean, scale, idx, w, active, l1, l2):
        """All steps of one epoch (``idx``, ``w`` ``[S, K, B]``, ``active`` ``[S, K]``) in one call."""

        def body(carry, batch):
            params, state = carry
            params, state, member = self._step(params, state, X, y, mean, scale, *batch, l1, l2)
            return (params, state), member

        (params, state), members = ops.scan(body, (params, state), (idx, w, active))
        return params, state, members

    def _evaluate(self, params, X, y, mean, scale, vidx, wv):
        """Per-member sums over rows ``vidx [K, V]`` weighted by ``wv [K, V]``: loss, score parts."""
        x = (ops.take(X, vidx, axis=0) - ops.expand_dims(mean, 1)) / ops.expand_dims(scale, 1)
        yk = ops.take(y, vidx, axis=0)
        pred = _forward(params, x, self.activations)
        loss = ops.sum(_per_sample_loss(self.task, yk, pred) * wv, axis=1)
        if self.task == "binary":
            hit = ops.cast(ops.cast(pred > 0.5, "float32") == yk, "float32")[..., 0]
            return loss, ops.sum(hit * wv, axis=1), ops.zeros_like(loss), ops.zeros_like(loss)
        if self.task == "multiclass":
            hit = ops.cast(ops.argmax(pred, axis=-1) == ops.cast(yk, "int32"), "float32")
            return loss, ops.sum(hit * wv, axis=1), ops.zeros_like(loss), ops.zeros_like(loss)
        wv3 = ops.expand_dims(wv, -1)
        sse = ops.sum(ops.square(yk - pred) * wv3, axis=1)  # [K, o]
        sy = ops.sum(yk * wv3, axis=1)
        syy = ops.sum(ops.square(yk) * wv3, axis=1)
        return loss, sse, sy, syy

    def _keep_best(self, best, params, improved):
        return [ops.where(_per_member(improved, p) > 0, p, b) for b, p in zip(best, params, strict=True)]


@functools.lru_cache(maxsize=16)
def _engine(activations, task, optimizer, proximal, lr):
    # Cached so that repeated fits of the same shapes reuse the compiled functions.
    return _Engine(activations, task, optimizer, proximal, lr)


def _epoch_batches(keys, train_mask, batch_size):
    """Row indices ``[S, K, B]`` and weights ``[S, K, B]``: each member's rows in batches.

    Member ``k`` takes its rows in the order of ``keys[k]`` and fills consecutive batches
    of ``batch_size``; its last batch may be partial and later steps empty (weight 0), so
    the batches are exactly those ``model.fit(X[rows_k], batch_size=...)`` would form.
    """
    K, n = train_mask.shape
    counts = train_mask.sum(axis=1)
    steps = max(1, int(math.ceil(counts.max() / batch_size)))
    keys = np.where(train_mask, keys, np.inf)
    order = np.argsort(keys, axis=1, kind="stable")
    width = steps * batch_size
    if width > n:
        order = np.concatenate([order, np.zeros((K, width - n), dtype=order.dtype)], axis=1)
    order = order[:, :width]
    weight = (np.arange(width)[None, :] < counts[:, None]).astype("float32")
    idx = order.reshape(K, steps, batch_size).transpose(1, 0, 2).astype("int32")
    return idx, weight.reshape(K, steps, batch_size).transpose(1, 0, 2)


def _shuffle_keys(n, streams, seed, epoch, shuffle):
    """One random key per row and member; members of the same stream share them.

    Keys depend only on ``(seed, stream, epoch)``, so a member's batches do not change
    when other members are added or removed.
    """
    if not shuffle:
        return np.broadcast_to(np.arange(n, dtype=float), (len(streams), n))
    unique, inverse = np.unique(streams, return_inverse=True)
    keys = np.stack([np.random.default_rng([seed, int(s), epoch]).random(n) for s in unique])
    return keys[inverse]


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
):
    """Train every member of ``model`` (a :class:`StackedMLP`) in one loop; weights set in place.

    Member ``k`` minimizes ``mean_{rows in batch and in train_mask[k]} loss + l1[k]*|W|_1 +
    l2[k]*|W|_2^2`` (kernels only) with its own Adam (or SGD) state, on inputs standardized
    as ``(X - mean[k]) / scale[k]``. Its validation loss and score are computed after each
    epoch on the rows of ``val_mask[k]``; with ``early_stopping`` it stops after ``patience``
    epochs without a lower validation loss and gets its best weights back. A member whose
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
    epochs : int, default 100
    max_epochs : int array [K] or None
        Per-member epoch budget (refits), at most ``epochs``.
    batch_size : int, default 32
    learning_rate : float, default 1e-3
    optimizer : {"adam", "sgd"}, default "adam"
        Keras's ``Adam`` (default betas and epsilon) or plain ``SGD``, per member.
    proximal : bool, default False
        Apply L1 as a soft-threshold after each step instead of in the loss: threshold
        ``lr*l1`` for SGD (the exact proximal gradient step) and ``l1*alpha_t/(sqrt(v)+eps)``
        per weight for Adam (the proximal step in Adam's own diagonal metric).
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

    engine = _engine(tuple(model.activations), model.task, optimizer, bool(proximal), float(learning_rate))
    params = [ops.convert_to_tensor(v.value) for v in model.trainable_variables]
    state = {}
    if optimizer == "adam":
        # numpy zeros: eager zeros_like would compile one XLA kernel per shape on JAX.
        zeros = [np.zeros(tuple(p.shape), "float32") for p in params]
        state = {"t": ops.convert_to_tensor(np.zeros(K, "float32")),
                 "m": [ops.convert_to_tensor(z) for z in zeros],
                 "v": [ops.convert_to_tensor(z.copy()) for z in zeros]}
    Xt, yt = ops.convert_to_tensor(X), ops.convert_to_tensor(y)
    meant, scalet = ops.convert_to_tensor(mean), ops.convert_to_tensor(scale)
    l1t, l2t = ops.convert_to_tensor(l1), ops.convert_to_tensor(l2)
    if has_val:
        val_mask = np.asarray(val_mask, bool)
        # Each member's validation rows, padded to a common width with weight 0.
        n_val = np.maximum(val_mask.sum(axis=1), 1)
        vidx, vw = _epoch_batches(np.zeros((K, n)), val_mask, int(n_val.max()))
        vidx, wv = ops.convert_to_tensor(vidx[0]), ops.convert_to_tensor(vw[0])
    seed = int(np.random.default_rng().integers(2**31)) if seed is None else int(seed)
    streams = np.arange(K) if streams is None else np.asarray(streams)

    running = budget > 0
    diverged = np.zeros(K, bool)
    best_loss = np.full(K, np.inf)
    best_score = np.full(K, np.nan)
    best_epoch = np.zeros(K, int)
    wait = np.zeros(K, int)
    trained = np.zeros(K, int)
    best = list(params)
    last_loss, last_score = np.full(K, np.nan), np.full(K, np.nan)
    hist_loss, hist_vl, hist_vs = [], [], []

    for epoch in range(epochs):
        if not running.any():
            break
        keys = _shuffle_keys(n, streams, seed, epoch, shuffle)
        idx, w = _epoch_batches(keys, train_mask, batch_size)
        has_rows = w.sum(axis=2) > 0  # [S, K]
        active = (running[None, :] & has_rows).astype("float32")
        params, state, members = engine.epoch(
            params, state, Xt, yt, meant, scalet, ops.convert_to_tensor(idx),
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
            sums = engine.evaluate(params, Xt, yt, meant, scalet, vidx, wv)
            vl, a, b, c = (ops.convert_to_numpy(t) for t in sums)
            vl = vl / n_val
            if model.task == "regression":
                sst = c - np.square(b) / n_val[:, None]
                vs = np.mean(1.0 - a / np.where(sst > 0, sst, np.nan), axis=1)
            else:
                vs = a / n_val
            vl = np.where(running, vl, np.nan)
            vs = np.where(running, vs, np.nan)
            newly |= running & ~np.isfinite(vl)
            last_loss = np.where(running, vl, last_loss)
            last_score = np.where(running, vs, last_score)
            logs.update(val_loss=vl, val_score=vs)
            hist_vl.append(vl)
            hist_vs.append(vs)
        diverged |= newly
        running &= ~newly
        if has_val:
            improved = running & (vl < best_loss)
            best_loss = np.where(improved, vl, best_loss)
            best_score = np.where(improved, vs, best_score)
            best_epoch = np.where(improved, epoch + 1, best_epoch)
            wait = np.where(improved, 0, wait + 1)
            if early_stopping:
                best = engine.keep_best(best, params, improved.astype("float32"))
                running &= ~((wait >= patience) & (epoch > 0))
        else:
            best_epoch = np.where(running, epoch + 1, best_epoch)
        hist_loss.append(loss)
        running &= trained < budget
        if callback is not None:
            logs.update(running=running.copy(), diverged=diverged.copy(), best_val_score=best_score)
            callback(epoch, logs)

    final = best if early_stopping else params
    if not early_stopping:
        # The weights returned are the last ones: report their validation numbers.
        best_epoch, best_loss, best_score = trained.copy(), last_loss, last_score
    for var, value in zip(model.trainable_variables, final, strict=True):
        var.assign(value)
    return StackFit(
        loss=np.array(hist_loss).reshape(-1, K),
        val_loss=np.array(hist_vl).reshape(-1, K) if has_val else None,
        val_score=np.array(hist_vs).reshape(-1, K) if has_val else None,
        best_epoch=best_epoch,
        best_val_loss=best_loss,
        best_val_score=best_score,
        epochs_trained=trained,
        diverged=diverged,
    )
