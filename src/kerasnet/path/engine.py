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

from . import segments
from .batches import distinct_rows, epoch_batches, shuffle_orders
from .device import to_device
from .rows import Rows, validation_losses, validation_outputs
from .runners import runner_for
from .sources import Chunks
from .step import MemberSettings, MemberState
from .stopping import EarlyStopping

__all__ = ["MemberFit", "fit_members", "member_losses"]


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
        stopping monitors by default (``monitor``).
    best_epoch : ndarray [K] int
        Epoch (1-based) of the kept weights: lowest monitored curve (cross-fit within
        ``stop_groups``), or the last epoch trained without early stopping.
    best_val_loss : ndarray [K]
    epochs_trained : ndarray [K] int
    diverged : ndarray [K] bool
        True when the member's loss became NaN or infinite; it stopped training there.
    chosen_epoch : ndarray [K] int
        With ``stop_groups``: the best epoch of the member's group's all-folds mean
        monitored curve (what a refit on all rows should train for); else
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


def _stacked(values, K):
    values = [np.asarray(ops.convert_to_numpy(v)) for v in values]
    return [to_device(np.broadcast_to(v, (K,) + v.shape).copy()) for v in values]


def _settings(l1, l2, scaling, group=None, factor=None):
    """Per-member constants; ``scaling`` is (x_mean, x_scale, y_mean, y_scale) or None."""
    parts = [l1, l2] + (list(scaling) if scaling is not None else [None] * 4) + [group, factor]
    return MemberSettings(*[None if p is None else to_device(np.asarray(p, "float32")) for p in parts])


def _optimizer(optimizer, learning_rate, model=None):
    """A fresh optimizer: a copy of an instance (never modified) or one built from its name.

    A copy keeps the instance's ``exclude_from_weight_decay`` choice for ``model``'s variables,
    which its config does not carry.
    """
    if isinstance(optimizer, keras.optimizers.Optimizer):
        original = optimizer
        optimizer = original.__class__.from_config(original.get_config())
        if model is not None and original.weight_decay:
            optimizer.exclude_from_weight_decay(var_list=[
                v for v in model.trainable_variables if not original._use_weight_decay(v)])
    else:
        optimizer = keras.optimizers.get(optimizer)
    if learning_rate is not None:
        optimizer.learning_rate = float(learning_rate)
    return optimizer


def _initial_state(model, step, K, streams, seed, start=None):
    non_trainable = [np.asarray(ops.convert_to_numpy(v.value)) for v in model.non_trainable_variables]
    if start is None:
        trainable = _stacked([v.value for v in model.trainable_variables], K)
    else:  # each member's own start: (distinct weight lists in model.weights order, each member's)
        starts, of = start
        position = {id(v): i for i, v in enumerate(model.weights)}
        trainable = [to_device(np.stack([np.asarray(starts[r][position[id(v)]]) for r in of]))
                     for v in model.trainable_variables]
    state = MemberState(
        trainable,
        _stacked(non_trainable, K),
        _stacked([v.value for v in step.optimizer.variables], K),
    )
    # Dropout and other random layers draw from SeedGenerator states: offset each stream's
    # seed so members of one stream share masks and member 0 of stream 0 matches model.fit.
    for i, v in enumerate(model.non_trainable_variables):
        if "seed_generator" in v.path:
            value = np.broadcast_to(non_trainable[i], (K,) + non_trainable[i].shape).copy()
            value[:, 0] += (streams + (seed or 0)).astype(value.dtype)
            state.non_trainable[i] = to_device(value)
    return state


def _row_groups(streams, train_of):
    """Members sharing their stream and training rows (a fold's strengths) see the same
    batches: ``(group [K], first member of each group [G])``."""
    pairs = np.stack([np.asarray(streams, int), np.asarray(train_of, int)], axis=1)
    _, first, group = np.unique(pairs, axis=0, return_index=True, return_inverse=True)
    return group.reshape(-1), first


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
    min_delta=0.0,
    monitor="val_objective",
    warmup=0,
    stop_groups=None,
    callback=None,
    max_epochs=None,
    outputs=False,
    group_l1=None,
    start=None,
    penalty_factor=None,
    offset=None,
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
    X : array [n, ...], list of arrays (multi-input), or :class:`kerasnet.path.sources.Chunks`
        Streamed chunks (a Parquet file, a Dask DataFrame) are read one at a time for each
        pass; each epoch visits them in a shuffled order and shuffles rows within a chunk,
        so a member's batches never span two chunks.
    y : array [n, ...]
    loss : str, keras loss function or keras.losses.Loss
    l1, l2 : array [K]
        Per-member strengths (``l2`` default zeros).
    penalized : None, layer names/classes, or predicate, default None
        Layers whose ``kernel``/``embeddings`` are penalized (None: all, as ``penalize``).
    train_mask, val_mask : bool array [K, n], ``(sets [R, n], of [K])`` or None
        Each member's training rows (default all) and validation rows (default none); or
        the distinct row sets and each member's set (no members x rows array).
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
    min_delta : float, default 0.0
        Relative decrease that resets the patience count (0: any decrease, as Keras).
    monitor : {"val_objective", "val_loss"}, default "val_objective"
        The curve early stopping watches: the validation objective (data loss + penalty,
        Keras's ``val_loss``) or the validation data loss alone (what a CV measure scores;
        :func:`kerasnet.fit_path`'s default budget watches it).
    warmup : int, default 0
        Early stopping watches the curves from this epoch on (earlier epochs are never kept,
        no member stops before it).
    callback : callable or None
        ``callback(epoch, logs)`` after each epoch with a dict of ``[K]`` arrays (``loss``,
        ``val_loss``, ``val_objective``, ``running``).
    max_epochs : int array [K] or None
        Per-member epoch budget (refits), at most ``epochs``.
    outputs : bool, default False
        Also return each member's outputs on its validation rows (``MemberFit.val_outputs``).
    group_l1 : array [K], array [K, d] or None
        Per-member strength of a group lasso on the rows of the first penalized kernel
        (a Dense layer's rows are its input features): ``group_l1[k] * sum_j ||W[j]||_2``,
        or one strength per feature ``sum_j group_l1[k, j] ||W[j]||_2`` (a strength of
        1e20 or more holds a feature's row at zero: a fit on selected features),
        applied after each update by its exact proximal step in the optimizer's metric
        (:func:`kerasnet.proximal.group_soft_threshold`), so whole features reach exactly
        zero. That kernel carries the group lasso in place of ``l1``/``l2``, which apply to
        the other penalized kernels (``kerasnet.mlp(..., input_penalty=GroupLasso(...))``).
    penalty_factor : array [d] or None
        glmnet's ``penalty.factor`` for every member: the elastic net of row ``j`` (input
        feature ``j``) of the first penalized kernel is multiplied by ``penalty_factor[j]``
        (0: unpenalized); a factor of 1e20 or more holds the row at zero (glmnet's
        ``exclude``). Not with ``group_l1`` (scale its per-feature strengths instead).
    offset : array [n] or None
        Each row's offset on the log scale (Poisson's log exposure): the model's output is
        multiplied by ``exp(offset)`` before the loss and in the validation outputs.
    start : ``(weights, of)`` or None
        Each member's own initial trainable weights: ``weights`` a list of weight lists
        (``model.get_weights()`` order) and ``of [K]`` the one member ``k`` starts from
        (warm starts). None: every member starts from the model's weights.

    Returns
    -------
    weights : list of K lists of ndarray
        Each member's weights in ``model.get_weights()`` order (``model.set_weights(w)``).
    fit : MemberFit
    """
    if monitor not in ("val_objective", "val_loss"):
        raise ValueError(f"monitor must be 'val_objective' or 'val_loss'; received {monitor!r}.")
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
    if not isinstance(X, Chunks):
        X = Chunks.of([np.asarray(a) for a in X] if isinstance(X, (list, tuple)) else np.asarray(X))
    n = X.n
    train_sets, train_of = (np.ones((1, n), bool), np.zeros(K, int)) if train_mask is None \
        else distinct_rows(train_mask)
    val_sets, val_of = (np.zeros((1, n), bool), np.zeros(K, int)) if val_mask is None \
        else distinct_rows(val_mask)
    streams = np.zeros(K, int) if streams is None else np.asarray(streams, int)
    sw = np.ones(n, "float32") if sample_weight is None else np.asarray(sample_weight, "float32")
    budget = np.full(K, int(epochs))
    if max_epochs is not None:
        budget = np.minimum(np.asarray(max_epochs, int), int(epochs))
    seed0 = 0 if seed is None else seed

    runner, step = runner_for(model, _optimizer(optimizer, learning_rate, model), loss, penalized, proximal,
                              grouped=group_l1 is not None, factored=penalty_factor is not None)
    state = _initial_state(model, step, K, streams, seed, start)
    group = None
    if group_l1 is not None:
        group = np.asarray(group_l1, "float32")
        group = np.broadcast_to(group, (K,) + group.shape[1:] if group.ndim == 2 else (K,))
    factor = None if penalty_factor is None else np.broadcast_to(
        np.asarray(penalty_factor, "float32"), (K, len(penalty_factor)))
    settings = _settings(l1, l2, scaling, group, factor)
    rows = Rows(X, y, sw, None if offset is None else np.exp(np.asarray(offset, "float64")))
    validated = val_sets.any(axis=1)[val_of]
    fold_weight = np.array([sw[rows_r].sum() for rows_r in val_sets])[val_of]
    stopper = EarlyStopping(validated, patience, groups=stop_groups, fold_weight=fold_weight,
                            enabled=early_stopping, min_delta=min_delta,
                            warmup=min(int(warmup), int(epochs)))
    best = state
    running, diverged = budget > 0, np.zeros(K, bool)
    epochs_trained = np.zeros(K, int)
    history = {"loss": [], "val_loss": [], "val_objective": []}
    group, first = _row_groups(streams, train_of)
    group_sets = train_sets[train_of[first]]
    steps = rows.steps(group_sets, batch_size)
    weights_count = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    work = segments.Work(6.0 * batch_size * weights_count, group)
    for epoch in range(int(epochs)):
        if not running.any():
            break
        trained_now = running.copy()  # a stopped member's numbers are not recorded (NaN), as on a cluster
        passes = []
        for c in rows.order(seed0, epoch, shuffle):
            a, b = X.bounds[c]
            chunk = None if rows.resident else c
            order = shuffle_orders(b - a, streams[first], seed0, epoch, shuffle, chunk=chunk)
            idx, pad = epoch_batches(order, group_sets[:, a:b], batch_size, steps)  # [S, G, B]: one per group
            active = (pad.sum(axis=2) > 0)[:, group] & running[None, :]
            repeats = (int(epochs) - epoch) * X.count
            state, totals = segments.run_pass(runner, state, rows.data(c), idx, pad, active, settings, group,
                                              work, repeats)
            passes.append((active, totals))
        active = np.concatenate([p[0] for p in passes])
        totals = np.where(active, np.concatenate([p[1] for p in passes]), np.nan)
        steps_run = active.sum(axis=0)
        summed = np.where(active, totals, 0.0).sum(axis=0)
        mean_loss = np.where(steps_run > 0, summed / np.maximum(steps_run, 1), np.nan)
        epochs_trained += running
        bad = running & ~np.isfinite(np.where(active, totals, 0.0)).all(axis=0)
        val_loss, penalty = validation_losses(rows, val_sets, val_of, runner, state, settings)
        bad |= running & validated & ~np.isfinite(val_loss)
        diverged |= bad
        objective = np.where(validated & ~diverged, val_loss + penalty, np.nan)
        watched = objective if monitor == "val_objective" else \
            np.where(validated & ~diverged, val_loss, np.nan)
        keep, stop = stopper.update(epoch, np.where(diverged, np.inf, watched), running & ~bad)
        # Without early stopping a member's weights are its latest.
        keep = (keep if early_stopping else running) & ~diverged
        # Everyone keeping their latest weights (no early stopping) needs no per-member select.
        best = state if keep.all() else runner.select(to_device(keep), state, best)
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
        val_outputs=validation_outputs(rows, val_sets, val_of, runner, best, settings) if outputs else None,
    )
    return _member_weights(model, best, K), fit


def _inference(model, X, y, weights, loss, scaling, sample_weight, offset):
    K = len(weights)
    if not isinstance(X, Chunks):
        X = Chunks.of([np.asarray(a) for a in X] if isinstance(X, (list, tuple)) else np.asarray(X))
    sw = np.ones(X.n, "float32") if sample_weight is None else np.asarray(sample_weight, "float32")
    runner, step = runner_for(model, _optimizer("adam", None), loss, None, False)
    state = _initial_state(model, step, K, np.zeros(K, int), 0, start=(weights, np.arange(K)))
    settings = _settings(np.zeros(K, "float32"), np.zeros(K, "float32"), scaling)
    exposure = None if offset is None else np.exp(np.asarray(offset, "float64"))
    return Rows(X, y, sw, exposure), np.ones((1, X.n), bool), np.zeros(K, int), runner, state, settings


def member_losses(model, X, y, weights, *, loss, scaling=None, sample_weight=None, offset=None):
    """Each member's weighted mean data loss on all rows at its weights (no training).

    ``weights`` are K weight lists in ``model.get_weights()`` order (what :func:`fit_members`
    returns); ``scaling`` as there. The path's deviance explained on its training rows
    (glmnet's ``dev.ratio``) comes from here: one inference pass, chunk by chunk.
    """
    losses, _ = validation_losses(*_inference(model, X, y, weights, loss, scaling, sample_weight, offset))
    return np.asarray(losses, float)


def member_outputs(model, X, y, weights, *, loss, scaling=None):
    """Each member's outputs ``[K, n, ...]`` on all rows, in row order: for measures a mean loss
    cannot give (the Cox deviance's risk sets span all rows)."""
    index, outputs, _ = validation_outputs(*_inference(model, X, y, weights, loss, scaling, None, None))
    ordered = np.empty_like(outputs)
    np.put_along_axis(ordered, index.reshape(index.shape + (1,) * (outputs.ndim - 2)), outputs, axis=1)
    return ordered
