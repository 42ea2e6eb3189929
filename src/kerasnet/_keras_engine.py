"""Train ``K`` copies of any Keras model at once, each with its own elastic-net strength and rows.

The engine behind a regularization path for arbitrary architectures (issue 11). Every member
starts from the model's current weights and differs only in its penalty ``(l1_k, l2_k)``, its
training rows (a CV fold) and its shuffling stream. One training step of one member is

1. ``value_and_grad`` of ``data loss + l2_k * sum W**2 (+ l1_k * sum |W|) + model.losses``
   through ``model.stateless_call(trainable, non_trainable, x, training=True)``;
2. ``optimizer.stateless_apply(optimizer_variables, grads, trainable)`` with any Keras
   optimizer;
3. with ``proximal=True``, the soft-threshold ``W <- prox(W, l1_k * s)`` of the L1 part, where
   ``s`` is :func:`kerasnet.proximal.effective_step` (``lr`` for SGD, Adam's per-weight step,
   ...): the same rule as :class:`kerasnet.proximal.ProximalStep` in ``model.fit``.

Backends: on JAX the step is ``jax.vmap``-ed over members and an epoch's steps run in one
``jax.lax.scan`` under ``jax.jit`` (one compiled call per epoch). On torch, members are
trained one after another with exactly the same step function (a documented per-member
loop; ``torch.func.vmap`` does not go through Keras's stateful optimizer code). This module
is the only backend-specific code of the engine.

Limits
------
* A member's last partial batch is padded to ``batch_size`` with weight-0 rows: they add
  nothing to the loss, but layers that couple the rows of a batch (``BatchNormalization``
  in training) see them, so such models match ``model.fit`` exactly only when every
  member's row count is a multiple of ``batch_size``.
* Dropout: each stream offsets the model's ``SeedGenerator`` states, so members of one
  stream share masks and stream 0 draws ``model.fit``'s masks on JAX (not on torch).
* Penalties a model already carries (``kernel_regularizer``, activity regularizers) are
  added to the loss as in ``model.fit``, on top of the engine's own; pass an unpenalized
  model. Variable constraints run inside ``stateless_apply`` as in ``model.fit`` (untested).
* No metrics beyond the loss; the tensorflow backend is not supported.
"""

from __future__ import annotations

import inspect
from typing import NamedTuple

import keras
import numpy as np
from keras import ops

from ._stack_engine import epoch_batches, shuffle_keys, value_and_grad
from ._stopping import EarlyStopping
from .proximal import effective_step, soft_threshold
from .stack import StackFit


class MemberState(NamedTuple):
    """Everything one member carries between steps (a leading ``K`` axis when stacked)."""

    trainable: list
    non_trainable: list
    optimizer: list


def penalized_indices(model, penalized):
    """Indices into ``model.trainable_variables`` of the penalized kernels.

    As :func:`kerasnet.penalize`: a layer's ``kernel`` (Dense, EinsumDense, convolutions,
    recurrent layers) or ``embeddings`` (Embedding), on the layers ``penalized`` selects
    (None: all; layer names or classes; or a predicate). Biases are never penalized.
    """
    if penalized is None:
        select = lambda layer: True  # noqa: E731
    elif callable(penalized) and not inspect.isclass(penalized):
        select = penalized
    else:
        items = [penalized] if isinstance(penalized, str) or inspect.isclass(penalized) else list(penalized)
        names = {i for i in items if isinstance(i, str)}
        classes = tuple(i for i in items if inspect.isclass(i))
        select = lambda layer: layer.name in names or (bool(classes) and isinstance(layer, classes))  # noqa: E731
    position = {id(v): i for i, v in enumerate(model.trainable_variables)}
    chosen = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for key in ("kernel", "embeddings"):
            variable = getattr(layer, key, None) if hasattr(layer, f"{key}_regularizer") else None
            if isinstance(variable, keras.Variable) and id(variable) in position and select(layer):
                chosen.append(position[id(variable)])
    return sorted(set(chosen))


def _loss_function(loss):
    """An unreduced per-sample loss ``(y_true, y_pred) -> [B]`` from a Keras loss name/object."""
    if isinstance(loss, keras.losses.Loss):
        return loss.call  # Loss.call is the unreduced loss (LossFunctionWrapper aligns ranks)
    fn = keras.losses.get(loss)

    def per_sample(y_true, y_pred):
        # As Keras's Loss wrapper: a [B] target meets a [B, 1] output as [B, 1].
        if len(y_true.shape) == len(y_pred.shape) - 1 and y_pred.shape[-1] == 1:
            y_true = ops.expand_dims(y_true, -1)
        return fn(y_true, y_pred)

    return per_sample


class _Step:
    """One member's training step and evaluation, pure functions of tensors."""

    def __init__(self, model, optimizer, loss, penalized, proximal):
        self.model, self.optimizer, self.loss = model, optimizer, _loss_function(loss)
        self.penalized, self.proximal = penalized, proximal

    def penalty(self, trainable, l1, l2):
        total = 0.0
        for i in self.penalized:
            total = total + l1 * ops.sum(ops.abs(trainable[i])) + l2 * ops.sum(ops.square(trainable[i]))
        return total

    def data_loss(self, trainable, non_trainable, data, idx, pad, training):
        """Keras's ``sum_over_batch_size``: ``sum(loss * sample_weight) / rows`` over real rows."""
        X, y, sw = data
        x = keras.tree.map_structure(lambda a: ops.take(a, idx, axis=0), X)
        out, non_trainable, losses = self.model.stateless_call(
            trainable, non_trainable, x, training=training, return_losses=True
        )
        per = self.loss(ops.take(y, idx, axis=0), out)
        rows = ops.sum(pad)
        value = ops.sum(per * pad * ops.take(sw, idx, axis=0)) / ops.maximum(rows, 1.0)
        return value + sum(losses, 0.0), non_trainable

    def __call__(self, state, data, idx, pad, active, l1, l2):
        def objective(trainable):
            value, non_trainable = self.data_loss(trainable, state.non_trainable, data, idx, pad, True)
            # In proximal mode the L1 part leaves the gradient and is applied by the prox below.
            smooth = value + self.penalty(trainable, 0.0 if self.proximal else l1, l2)
            return smooth, (non_trainable, value + self.penalty(trainable, l1, l2))

        (_, (non_trainable, total)), grads = value_and_grad(objective)(state.trainable)
        optimizer_values = state.optimizer
        if keras.backend.backend() == "torch":
            # Keras's torch optimizers update the scope's tensors in place (torch._foreach_*):
            # give them copies so the kept state (and best weights) are not overwritten.
            optimizer_values = [v.clone() for v in optimizer_values]
        trainable, optimizer_values = self.optimizer.stateless_apply(
            optimizer_values, grads, [v.clone() if hasattr(v, "clone") else v for v in state.trainable]
        )
        if self.proximal:
            trainable = self._prox(trainable, state.optimizer, optimizer_values, l1)
        # A member with no rows in this batch (or stopped) does not step, as Keras would not.
        keep = lambda new, old: [ops.where(active > 0, n, o) for n, o in zip(new, old, strict=True)]  # noqa: E731
        new = MemberState(
            keep(trainable, state.trainable),
            keep(non_trainable, state.non_trainable),
            keep(optimizer_values, state.optimizer),
        )
        return new, total

    def _prox(self, trainable, old_opt, new_opt, l1):
        """Soft-threshold the penalized kernels by ``l1 * effective_step`` (ProximalStep's rule)."""
        optimizer = self.optimizer
        # effective_step expects the state Keras shows a constraint: updated moments, and the
        # iteration counter *before* its increment.
        # Found by identity: Keras variables overload == elementwise.
        mapping = [
            (v, old if v is optimizer.iterations else new)
            for v, old, new in zip(optimizer.variables, old_opt, new_opt, strict=True)
        ]
        variables = self.model.trainable_variables
        mapping += list(zip(variables, trainable, strict=True))
        trainable = list(trainable)
        with keras.StatelessScope(state_mapping=mapping):
            for i in self.penalized:
                trainable[i] = soft_threshold(trainable[i], l1 * effective_step(optimizer, variables[i]))
        return trainable

    def evaluate(self, state, data, idx, pad, l1, l2):
        """Validation data loss (as ``val_loss`` without penalty) and the full penalty."""
        value, _ = self.data_loss(state.trainable, state.non_trainable, data, idx, pad, False)
        return value, self.penalty(state.trainable, l1, l2)


class _JaxRunner:
    """Members vmapped, an epoch's steps scanned, both compiled (one call per epoch)."""

    def __init__(self, step):
        import jax

        member = jax.vmap(step, in_axes=(0, None, 0, 0, 0, 0, 0))

        def epoch(state, data, idx, pad, active, l1, l2):
            def body(state, batch):
                return member(state, data, *batch, l1, l2)

            return jax.lax.scan(body, state, (idx, pad, active))

        self.epoch = jax.jit(epoch)
        self.evaluate = jax.jit(jax.vmap(step.evaluate, in_axes=(0, None, 0, 0, 0, 0)))


class _LoopRunner:
    """The per-member fallback (torch): the same step, one member and one batch at a time."""

    def __init__(self, step):
        self.step = step

    @staticmethod
    def _member(state, k):
        return MemberState(*[[v[k] for v in part] for part in state])

    @staticmethod
    def _stack(states):
        return MemberState(
            *[[ops.stack(vs) for vs in zip(*parts, strict=True)] for parts in zip(*states, strict=True)]
        )

    def epoch(self, state, data, idx, pad, active, l1, l2):
        S, K = active.shape
        members, totals = [], np.full((S, K), np.nan, dtype="float32")
        for k in range(K):
            s_k = self._member(state, k)
            for s in range(S):
                if float(active[s, k]) > 0:  # a skipped step is the identity: do not run it
                    s_k, total = self.step(s_k, data, idx[s, k], pad[s, k], active[s, k], l1[k], l2[k])
                    totals[s, k] = float(keras.ops.convert_to_numpy(total))
            members.append(s_k)
        return self._stack(members), totals

    def evaluate(self, state, data, idx, pad, l1, l2):
        member = lambda k: self.step.evaluate(self._member(state, k), data, idx[k], pad[k], l1[k], l2[k])  # noqa: E731
        parts = [member(k) for k in range(len(l1))]
        return tuple(np.array([float(ops.convert_to_numpy(p[j])) for p in parts]) for j in range(2))


def _row_index(mask):
    """Each member's rows ``[K, V]`` padded with row 0, and the padding mask (1 for real rows)."""
    counts = mask.sum(axis=1)
    width = max(1, int(counts.max()))
    order = np.argsort(~mask, axis=1, kind="stable")[:, :width]
    pad = (np.arange(width)[None, :] < counts[:, None]).astype("float32")
    return np.where(pad > 0, order, 0).astype("int32"), pad


def _stack_members(values, K):
    values = [np.asarray(ops.convert_to_numpy(v)) for v in values]
    return [ops.convert_to_tensor(np.broadcast_to(v, (K,) + v.shape).copy()) for v in values]


def fit_members(
    model,
    X,
    y,
    *,
    loss,
    l1,
    l2=None,
    penalized=None,
    train_mask=None,
    val_mask=None,
    sample_weight=None,
    epochs=10,
    batch_size=32,
    optimizer="adam",
    learning_rate=None,
    proximal=False,
    seed=None,
    shuffle=True,
    streams=None,
    early_stopping=False,
    patience=10,
    stop_groups=None,
    callback=None,
    max_epochs=None,
):
    """Train ``K = len(l1)`` elastic-net penalized copies of a Keras model at once.

    Member ``k`` minimizes ``data loss on its rows + l1[k] * sum|W| + l2[k] * sum W**2`` (W:
    the penalized kernels) from the model's current weights, as ``model.fit`` would with
    ``kernel_regularizer=L1L2(l1[k], l2[k])`` on those kernels (or ``ElasticNet(...,
    proximal=True)`` with ``proximal=True``), on batches of its rows.

    Parameters
    ----------
    model : keras.Model or callable returning one
        Built and uncompiled; Sequential, Functional or subclassed. Its weights are every
        member's initial weights; the model itself is not modified.
    X : array [n, ...] or list of arrays (multi-input)
    y : array [n, ...]
    loss : str, keras loss function or keras.losses.Loss
    l1, l2 : array [K]
        Per-member strengths (``l2`` default zeros).
    penalized : None, layer names/classes, or predicate, default None
        Layers whose ``kernel``/``embeddings`` are penalized (None: all, as ``penalize``).
    train_mask, val_mask : bool array [K, n] or None
        Each member's training rows (default all) and validation rows (default none).
    sample_weight : array [n] or None
    epochs, batch_size : int
    optimizer : str or keras.optimizers.Optimizer, default "adam"
        A name or an instance (copied through its config, never modified).
    learning_rate : float or None
        Overrides the optimizer's learning rate when given.
    proximal : bool, default False
        L1 by soft-thresholding after each update (exact zeros) instead of in the gradient.
    seed : int or None
        Shuffling and dropout seed. shuffle : bool, default True (False: rows in order, as
        ``model.fit(shuffle=False)``).
    streams : int array [K] or None
        Members of one stream share batches and dropout masks (default: all stream 0).
    early_stopping : bool; patience : int; stop_groups : int array [K] or None
        Per-member early stopping on the validation objective, cross-fit within groups;
        see :class:`kerasnet._stopping.EarlyStopping`. Members keep their best weights.
    callback : callable or None
        ``callback(epoch, fit_so_far_logs)`` after each epoch with a dict of ``[K]`` arrays.
    max_epochs : int array [K] or None
        Per-member epoch budget (refits), at most ``epochs``.

    Returns
    -------
    weights : list of K lists of ndarray
        Each member's weights in ``model.get_weights()`` order (``model.set_weights(w)``).
    fit : kerasnet.stack.StackFit
        Per-epoch losses, best epochs, divergence (``val_score`` is not computed: None).
    """
    if keras.backend.backend() not in ("jax", "torch"):
        raise NotImplementedError(
            f"fit_members supports the jax and torch backends, not {keras.backend.backend()!r}."
        )
    model = model() if not isinstance(model, keras.Model) and callable(model) else model
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(
            f"model must be a built keras.Model or a function returning one; received {model!r}."
        )
    l1 = np.atleast_1d(np.asarray(l1, "float32"))
    K = len(l1)
    l2 = np.zeros(K, "float32") if l2 is None else np.broadcast_to(np.asarray(l2, "float32"), (K,))
    Xs = [np.asarray(a) for a in X] if isinstance(X, (list, tuple)) else np.asarray(X)
    n = len(Xs[0]) if isinstance(Xs, list) else len(Xs)
    train_mask = np.ones((K, n), bool) if train_mask is None else np.asarray(train_mask, bool)
    val_mask = np.zeros((K, n), bool) if val_mask is None else np.asarray(val_mask, bool)
    streams = np.zeros(K, int) if streams is None else np.asarray(streams, int)
    sw = np.ones(n, "float32") if sample_weight is None else np.asarray(sample_weight, "float32")
    budget = np.full(K, int(epochs))
    if max_epochs is not None:
        budget = np.minimum(np.asarray(max_epochs, int), int(epochs))

    if isinstance(optimizer, keras.optimizers.Optimizer):
        optimizer = optimizer.__class__.from_config(optimizer.get_config())
    else:
        optimizer = keras.optimizers.get(optimizer)
    if learning_rate is not None:
        optimizer.learning_rate = float(learning_rate)
    optimizer.build(model.trainable_variables)

    step = _Step(model, optimizer, loss, penalized_indices(model, penalized), proximal)
    non_trainable = [np.asarray(ops.convert_to_numpy(v.value)) for v in model.non_trainable_variables]
    state = MemberState(
        _stack_members([v.value for v in model.trainable_variables], K),
        _stack_members(non_trainable, K),
        _stack_members([v.value for v in optimizer.variables], K),
    )
    # Dropout and other random layers draw from SeedGenerator states: offset each stream's
    # seed so members of one stream share masks and member 0 of stream 0 matches model.fit.
    seeds = [i for i, v in enumerate(model.non_trainable_variables) if "seed_generator" in v.path]
    for i in seeds:
        value = np.broadcast_to(non_trainable[i], (K,) + non_trainable[i].shape).copy()
        value[:, 0] += (streams + (seed or 0)).astype(value.dtype)
        state.non_trainable[i] = ops.convert_to_tensor(value)

    runner = (_JaxRunner if keras.backend.backend() == "jax" else _LoopRunner)(step)
    data = (
        keras.tree.map_structure(ops.convert_to_tensor, Xs),
        ops.convert_to_tensor(np.asarray(y)),
        ops.convert_to_tensor(sw),
    )
    validated = val_mask.any(axis=1)
    vidx, vpad = _row_index(val_mask)
    stopper = EarlyStopping(
        validated,
        patience,
        groups=stop_groups,
        fold_weight=(val_mask * sw).sum(axis=1),
        enabled=early_stopping,
    )
    best = state
    running, diverged = budget > 0, np.zeros(K, bool)
    epochs_trained = np.zeros(K, int)
    history = {"loss": [], "val_loss": [], "val_objective": []}
    l1_t, l2_t = ops.convert_to_tensor(l1), ops.convert_to_tensor(l2)
    for epoch in range(int(epochs)):
        if not running.any():
            break
        keys = shuffle_keys(n, streams, 0 if seed is None else seed, epoch, shuffle)
        idx, pad = epoch_batches(keys, train_mask, batch_size)
        active = (pad.sum(axis=2) > 0) & running[None, :]
        state, totals = runner.epoch(
            state,
            data,
            ops.convert_to_tensor(idx),
            ops.convert_to_tensor(pad),
            ops.convert_to_tensor(active.astype("float32")),
            l1_t,
            l2_t,
        )
        totals = np.where(active, np.asarray(ops.convert_to_numpy(totals)), np.nan)
        steps = active.sum(axis=0)
        mean_loss = np.where(
            steps > 0, np.where(active, totals, 0.0).sum(axis=0) / np.maximum(steps, 1), np.nan
        )
        epochs_trained += running
        bad = running & ~np.isfinite(np.where(active, totals, 0.0)).all(axis=0)
        diverged |= bad
        val_loss, penalty = (
            np.asarray(ops.convert_to_numpy(t))
            for t in runner.evaluate(
                state, data, ops.convert_to_tensor(vidx), ops.convert_to_tensor(vpad), l1_t, l2_t
            )
        )
        objective = np.where(validated & ~diverged, val_loss + penalty, np.nan)
        keep, stop = stopper.update(epoch, np.where(diverged, np.inf, objective), running & ~bad)
        # Without early stopping a member's weights are its latest (fit_stack's rule).
        keep = (keep if early_stopping else running) & ~diverged
        best = _select(keep, state, best)
        running &= ~(stop | bad) & (epochs_trained < budget)
        history["loss"].append(np.where(epochs_trained > 0, mean_loss, np.nan))
        history["val_loss"].append(np.where(validated, val_loss, np.nan))
        history["val_objective"].append(objective)
        if callback is not None:
            callback(epoch, {k: v[-1] for k, v in history.items()})
    weights = _member_weights(model, best, K)
    best_val = np.array(history["val_loss"]) if history["val_loss"] else np.full((1, K), np.nan)
    pick = np.clip(stopper.best_epoch - 1, 0, max(len(best_val) - 1, 0))
    fit = StackFit(
        loss=np.array(history["loss"]),
        val_loss=best_val if validated.any() else None,
        val_score=None,
        best_epoch=stopper.best_epoch,
        best_val_loss=best_val[pick, np.arange(K)],
        best_val_score=np.full(K, np.nan),
        epochs_trained=epochs_trained,
        diverged=diverged,
        val_objective=np.array(history["val_objective"]) if validated.any() else None,
        chosen_epoch=stopper.chosen_epoch() if stop_groups is not None else stopper.best_epoch,
    )
    return weights, fit


def _select(mask, new, old):
    """Per member: ``new`` where ``mask`` else ``old`` (kept best weights)."""
    m = ops.convert_to_tensor(mask)
    pick = lambda a, b: ops.where(ops.reshape(m, (-1,) + (1,) * (len(a.shape) - 1)), a, b)  # noqa: E731
    return MemberState(
        *[[pick(a, b) for a, b in zip(pn, po, strict=True)] for pn, po in zip(new, old, strict=True)]
    )


def _member_weights(model, state, K):
    """Each member's values in ``model.weights`` order (seed states and metrics left out)."""
    values = {}
    pairs = (state.trainable, model.trainable_variables), (state.non_trainable, model.non_trainable_variables)
    for part, variables in pairs:
        for v, value in zip(variables, part, strict=True):
            values[id(v)] = np.asarray(ops.convert_to_numpy(value))
    return [[values[id(v)][k] for v in model.weights] for k in range(K)]
