"""Train ``K`` copies of any Keras model at once, each with its own elastic-net strength and rows.

The engine of every regularization path (the MLP of :func:`kerasnet.fit_path` is one Keras
model like any other). Every member starts from the model's current weights and differs only
in its penalty ``(l1_k, l2_k)``, its training and validation rows (a CV fold), its shuffling
stream and, optionally, its own standardization of inputs and target. The member step is
:class:`kerasnet.path.step.Step`; :mod:`kerasnet.path.runners` runs it for all members at once
(``jax.vmap`` + ``lax.scan`` on JAX, ``torch.func.vmap`` on torch). This module is the epoch
loop: batches, validation, per-member early stopping and divergence, best weights.

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
  model. Variable constraints run inside ``stateless_apply`` as in ``model.fit``.
* With row weights the data loss of a batch is the weighted mean ``sum(w l) / sum(w)``
  (glmnet's objective); ``model.fit(sample_weight=...)`` divides by the row count instead.
* The tensorflow backend is not supported.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from .batches import epoch_batches, shuffle_keys
from .runners import runner_for
from .step import Data, MemberSettings, MemberState
from .stopping import EarlyStopping
from .validation import Validation

__all__ = ["MemberFit", "fit_members"]


@dataclass
class MemberFit:
    """What :func:`fit_members` learned about each member (arrays have a member axis ``K``).

    Attributes
    ----------
    loss : ndarray [epochs_run, K]
        Mean training objective (data loss + penalty) over each epoch's steps; NaN when
        the member did not train that epoch.
    val_loss : ndarray [epochs_run, K] or None
        Validation data loss (weighted mean, penalty excluded) after each epoch.
    val_objective : ndarray [epochs_run, K] or None
        ``val_loss`` + the member's penalty: Keras's own ``val_loss``, which early
        stopping monitors.
    best_epoch : ndarray [K] int
        Epoch (1-based) of the kept weights: lowest ``val_objective`` (cross-fit within
        ``stop_groups``), or the last epoch trained without early stopping.
    best_val_loss : ndarray [K]
    epochs_trained : ndarray [K] int
    diverged : ndarray [K] bool
        True when the member's loss became NaN or infinite; it stopped training there.
    chosen_epoch : ndarray [K] int
        With ``stop_groups``: the best epoch of the member's group's all-folds mean
        validation objective (what a refit on all rows should train for); else
        ``best_epoch``.
    val_outputs : tuple or None
        With ``outputs=True``: ``(index [K, V], outputs [K, V, ...], valid [K, V])``, each
        member's outputs (in ``y``'s units) on its validation rows with its kept weights.
    """

    loss: np.ndarray
    val_loss: np.ndarray | None
    val_objective: np.ndarray | None
    best_epoch: np.ndarray
    best_val_loss: np.ndarray
    epochs_trained: np.ndarray
    diverged: np.ndarray
    chosen_epoch: np.ndarray
    val_outputs: tuple | None = None


def _tensor(value):
    """A host array as the runner takes it. On JAX a plain transfer (``jax.device_put``):
    ``convert_to_tensor`` would compile a staging kernel for every new shape."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.device_put(np.asarray(value))
    return ops.convert_to_tensor(value)


def _stacked(values, K):
    values = [np.asarray(ops.convert_to_numpy(v)) for v in values]
    return [_tensor(np.broadcast_to(v, (K,) + v.shape).copy()) for v in values]


def _settings(l1, l2, scaling):
    """Per-member constants; ``scaling`` is (x_mean, x_scale, y_mean, y_scale) or None."""
    parts = [l1, l2] + (list(scaling) if scaling is not None else [None] * 4)
    return MemberSettings(*[None if p is None else _tensor(np.asarray(p, "float32")) for p in parts])


def _optimizer(optimizer, learning_rate):
    """A fresh optimizer: a copy of an instance (never modified) or one built from its name."""
    if isinstance(optimizer, keras.optimizers.Optimizer):
        optimizer = optimizer.__class__.from_config(optimizer.get_config())
    else:
        optimizer = keras.optimizers.get(optimizer)
    if learning_rate is not None:
        optimizer.learning_rate = float(learning_rate)
    return optimizer


def _initial_state(model, step, K, streams, seed):
    non_trainable = [np.asarray(ops.convert_to_numpy(v.value)) for v in model.non_trainable_variables]
    state = MemberState(
        _stacked([v.value for v in model.trainable_variables], K),
        _stacked(non_trainable, K),
        _stacked([v.value for v in step.optimizer.variables], K),
    )
    # Dropout and other random layers draw from SeedGenerator states: offset each stream's
    # seed so members of one stream share masks and member 0 of stream 0 matches model.fit.
    for i, v in enumerate(model.non_trainable_variables):
        if "seed_generator" in v.path:
            value = np.broadcast_to(non_trainable[i], (K,) + non_trainable[i].shape).copy()
            value[:, 0] += (streams + (seed or 0)).astype(value.dtype)
            state.non_trainable[i] = _tensor(value)
    return state


def _row_groups(streams, train_mask):
    """Members sharing their stream and training rows (a fold's strengths) see the same
    batches: ``(group [K], first member of each group [G])``."""
    seen, group = {}, np.empty(len(streams), int)
    for k, (stream, rows) in enumerate(zip(streams, train_mask, strict=True)):
        group[k] = seen.setdefault((int(stream), np.packbits(rows).tobytes()), len(seen))
    return group, np.unique(group, return_index=True)[1]


def _member_weights(model, state, K):
    """Each member's values in ``model.weights`` order (seed states and metrics left out)."""
    values = {}
    pairs = (state.trainable, model.trainable_variables), (state.non_trainable, model.non_trainable_variables)
    for part, variables in pairs:
        for v, value in zip(variables, part, strict=True):
            values[id(v)] = np.asarray(ops.convert_to_numpy(value))
    return [[values[id(v)][k] for v in model.weights] for k in range(K)]


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
    scaling=None,
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
    outputs=False,
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
        Row weights: a member's data loss is the weighted mean over its rows in a batch, its
        validation loss the weighted mean over its validation rows.
    scaling : tuple (x_mean, x_scale, y_mean, y_scale) of arrays [K, ...] or None
        Per-member standardization: member ``k`` sees ``(X - x_mean[k]) / x_scale[k]`` and
        fits ``(y - y_mean[k]) / y_scale[k]`` (``y_mean`` None: the target as given); its
        losses are in those units and its ``val_outputs`` in ``y``'s. Single-array ``X`` only.
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
        see :class:`kerasnet.path.stopping.EarlyStopping`. Members keep their best weights.
    callback : callable or None
        ``callback(epoch, logs)`` after each epoch with a dict of ``[K]`` arrays (``loss``,
        ``val_loss``, ``val_objective``, ``running``).
    max_epochs : int array [K] or None
        Per-member epoch budget (refits), at most ``epochs``.
    outputs : bool, default False
        Also return each member's outputs on its validation rows (``MemberFit.val_outputs``).

    Returns
    -------
    weights : list of K lists of ndarray
        Each member's weights in ``model.get_weights()`` order (``model.set_weights(w)``).
    fit : MemberFit
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

    runner, step = runner_for(model, _optimizer(optimizer, learning_rate), loss, penalized, proximal)
    state = _initial_state(model, step, K, streams, seed)
    settings = _settings(l1, l2, scaling)
    data = Data(keras.tree.map_structure(_tensor, Xs), _tensor(np.asarray(y)), _tensor(sw))
    validated = val_mask.any(axis=1)
    validation = Validation(val_mask, sw, _tensor)
    stopper = EarlyStopping(validated, patience, groups=stop_groups, fold_weight=(val_mask * sw).sum(axis=1),
                            enabled=early_stopping)
    best = state
    running, diverged = budget > 0, np.zeros(K, bool)
    epochs_trained = np.zeros(K, int)
    history = {"loss": [], "val_loss": [], "val_objective": []}
    group, first = _row_groups(streams, train_mask)
    group_t = _tensor(group.astype("int32"))
    for epoch in range(int(epochs)):
        if not running.any():
            break
        trained_now = running.copy()  # a stopped member's numbers are not recorded (NaN), as on a cluster
        keys = shuffle_keys(n, streams[first], 0 if seed is None else seed, epoch, shuffle)
        idx, pad = epoch_batches(keys, train_mask[first], batch_size)  # [S, G, B]: one per group
        active = (pad.sum(axis=2) > 0)[:, group] & running[None, :]
        state, totals = runner.epoch(state, data, _tensor(idx), _tensor(pad),
                                     _tensor(active.astype("float32")), settings, group_t)
        totals = np.where(active, np.asarray(ops.convert_to_numpy(totals)), np.nan)
        steps = active.sum(axis=0)
        summed = np.where(active, totals, 0.0).sum(axis=0)
        mean_loss = np.where(steps > 0, summed / np.maximum(steps, 1), np.nan)
        epochs_trained += running
        bad = running & ~np.isfinite(np.where(active, totals, 0.0)).all(axis=0)
        val_loss, penalty = validation.losses(runner, state, data, settings)
        bad |= running & validated & ~np.isfinite(val_loss)
        diverged |= bad
        objective = np.where(validated & ~diverged, val_loss + penalty, np.nan)
        keep, stop = stopper.update(epoch, np.where(diverged, np.inf, objective), running & ~bad)
        # Without early stopping a member's weights are its latest.
        keep = (keep if early_stopping else running) & ~diverged
        # Everyone keeping their latest weights (no early stopping) needs no per-member select.
        best = state if keep.all() else runner.select(_tensor(keep), state, best)
        running &= ~(stop | bad) & (epochs_trained < budget)
        history["loss"].append(np.where(epochs_trained > 0, mean_loss, np.nan))
        history["val_loss"].append(np.where(validated & ~diverged & trained_now, val_loss, np.nan))
        history["val_objective"].append(np.where(trained_now, objective, np.nan))
        if callback is not None:
            callback(epoch, {**{k: v[-1] for k, v in history.items()}, "running": running.copy()})
    val_hist = np.array(history["val_loss"]).reshape(-1, K)
    best_epoch = stopper.best_epoch if early_stopping else epochs_trained.copy()
    pick = np.clip(best_epoch - 1, 0, max(len(val_hist) - 1, 0))
    fit = MemberFit(
        loss=np.array(history["loss"]).reshape(-1, K),
        val_loss=val_hist if validated.any() else None,
        val_objective=np.array(history["val_objective"]).reshape(-1, K) if validated.any() else None,
        best_epoch=best_epoch,
        best_val_loss=val_hist[pick, np.arange(K)] if len(val_hist) else np.full(K, np.nan),
        epochs_trained=epochs_trained,
        diverged=diverged,
        chosen_epoch=stopper.chosen_epoch() if stop_groups is not None and early_stopping else best_epoch,
        val_outputs=validation.outputs(runner, best, data, settings) if outputs else None,
    )
    return _member_weights(model, best, K), fit
