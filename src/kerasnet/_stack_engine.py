"""The compiled step of stacked training: per-member loss, gradients, Adam/SGD, batching.

Pure functions of tensors (``keras.ops``), compiled with XLA on JAX. The only
backend-specific code in kerasnet's stacked training is here: automatic differentiation
(:func:`value_and_grad`) and compilation (:func:`_compile`).
"""

from __future__ import annotations

import functools
import math

import keras
import numpy as np
from keras import ops

from .proximal import adam_step_size

ADAM = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}  # Keras's Adam defaults


def dense(x, kernel, bias):
    return ops.einsum("kbi,kio->kbo", x, kernel) + ops.expand_dims(bias, 1)


# --------------------------------------------------------------------------- backend-specific


def value_and_grad(fn):
    """``params -> ((value, aux), grads)`` for a scalar ``fn(params) -> (value, aux)``.

    The stacked engine and :mod:`kerasnet._keras_engine` share it; ``aux`` may be any nest.
    """
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
            return (value.detach(), tuple(keras.tree.map_structure(lambda a: a.detach(), aux))), list(grads)

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
        x = act(dense(x, params[2 * i], params[2 * i + 1]))
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


class _Engine:
    """Compiled step and evaluation functions for one stacked fit."""

    def __init__(self, activations, task, optimizer, proximal, lr):
        self.activations, self.task, self.optimizer = activations, task, optimizer
        self.proximal, self.lr = proximal, float(lr)
        self.step = _compile(self._step)
        self.epoch = _compile(self._epoch)
        self.evaluate = _compile(self._evaluate)
        self.keep_best = _compile(self._keep_best)
        self.predict = _compile(self._predict)

    def _rows(self, X, y, norm, idx):
        """Member rows ``idx [K, B]``: standardized inputs, and target (standardized for regression)."""
        mean, scale, y_mean, y_scale = norm
        x = (ops.take(X, idx, axis=0) - ops.expand_dims(mean, 1)) / ops.expand_dims(scale, 1)
        yb = ops.take(y, idx, axis=0)
        if self.task == "regression":
            yb = (yb - ops.expand_dims(y_mean, 1)) / ops.expand_dims(y_scale, 1)
        return x, yb

    def _objective(self, params, X, y, norm, idx, w, l1, l2):
        xb, yb = self._rows(X, y, norm, idx)
        per = _per_sample_loss(self.task, yb, _forward(params, xb, self.activations))
        total = ops.sum(w, axis=1)
        # A weighted mean over the member's rows in the batch (weights may be fractional).
        data = ops.sum(per * w, axis=1) / ops.where(total > 0, total, 1.0)
        member = data + _penalty(params, 0.0 if self.proximal else l1, l2)
        # The sum's gradient w.r.t. member k's weights is member k's own gradient.
        return ops.sum(member), (member,)

    def _step(self, params, state, X, y, norm, idx, w, active, l1, l2):
        (_, (member,)), grads = value_and_grad(
            lambda p: self._objective(p, X, y, norm, idx, w, l1, l2)
        )(params)
        lr = self.lr
        new_params, new_state = [], {}
        if self.optimizer == "adam":
            b1, b2, eps = ADAM["beta_1"], ADAM["beta_2"], ADAM["epsilon"]
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
                    # Threshold l1 * (step per unit of bias-corrected gradient), as ProximalStep.
                    step = adam_step_size(lr, _per_member(safe_t, p), v_new, b2, eps)
                    p_new = _soft_threshold(p_new, _per_member(l1, p) * step)
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

    def _epoch(self, params, state, X, y, norm, idx, w, active, l1, l2):
        """All steps of one epoch (``idx``, ``w`` ``[S, K, B]``, ``active`` ``[S, K]``) in one call."""

        def body(carry, batch):
            params, state = carry
            params, state, member = self._step(params, state, X, y, norm, *batch, l1, l2)
            return (params, state), member

        (params, state), members = ops.scan(body, (params, state), (idx, w, active))
        return params, state, members

    def _evaluate(self, params, X, y, norm, vidx, wv, l1, l2):
        """Per-member penalty and sums over rows ``vidx [K, V]`` weighted by ``wv``: loss, score parts."""
        return (_penalty(params, l1, l2),) + self._sums(params, X, y, norm, vidx, wv)

    def _sums(self, params, X, y, norm, vidx, wv):
        x, yk = self._rows(X, y, norm, vidx)
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

    def _predict(self, params, X, norm, idx):
        """Member outputs ``[K, V, o]`` on rows ``idx [K, V]`` (regression in ``y``'s units)."""
        mean, scale, y_mean, y_scale = norm
        x = (ops.take(X, idx, axis=0) - ops.expand_dims(mean, 1)) / ops.expand_dims(scale, 1)
        pred = _forward(params, x, self.activations)
        if self.task == "regression":
            pred = pred * ops.expand_dims(y_scale, 1) + ops.expand_dims(y_mean, 1)
        return pred

    def _keep_best(self, best, params, improved):
        return [ops.where(_per_member(improved, p) > 0, p, b) for b, p in zip(best, params, strict=True)]


@functools.lru_cache(maxsize=16)
def engine(activations, task, optimizer, proximal, lr):
    # Cached so that repeated fits of the same shapes reuse the compiled functions.
    return _Engine(activations, task, optimizer, proximal, lr)


def epoch_batches(keys, train_mask, batch_size):
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


def shuffle_keys(n, streams, seed, epoch, shuffle):
    """One random key per row and member; members of the same stream share them.

    Keys depend only on ``(seed, stream, epoch)``, so a member's batches do not change
    when other members are added or removed.
    """
    if not shuffle:
        return np.broadcast_to(np.arange(n, dtype=float), (len(streams), n))
    unique, inverse = np.unique(streams, return_inverse=True)
    keys = np.stack([np.random.default_rng([seed, int(s), epoch]).random(n) for s in unique])
    return keys[inverse]
