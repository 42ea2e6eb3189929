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

import dataclasses
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from . import buckets, segments
from .batches import epoch_batches, shuffle_orders
from .device import to_device
from .member_state import initial_state, member_settings, member_weights, optimizer_copy
from .rows import validation_losses, validation_outputs
from .runners import runner_for
from .step import MemberSettings
from .stopping import EarlyStopping, StoppingRule

__all__ = ["MemberFit", "fit_members", "initial_state", "member_settings", "optimizer_copy"]


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

    def take(self, index):
        """The members ``index`` (an int array), in that order."""
        fields = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None:
                fields[field.name] = None
            elif field.name == "val_outputs":
                fields[field.name] = tuple(np.asarray(part)[index] for part in value)
            else:
                value = np.asarray(value)
                fields[field.name] = value[:, index] if value.ndim == 2 else value[index]
        return MemberFit(**fields)

    @staticmethod
    def concat(fits):
        """One fit of ``fits``' members one after the other (None when any is None).

        Epoch histories ``[epochs, K]`` of shorter fits are padded with NaN (as a stopped
        member reads), validation outputs to the widest (padding is not ``valid``); a field
        any fit did not record is None.
        """
        if any(f is None for f in fits):
            return None
        epochs = max(f.loss.shape[0] for f in fits)
        merged = {}
        for field in dataclasses.fields(MemberFit):
            parts = [getattr(f, field.name) for f in fits]
            if any(p is None for p in parts):
                merged[field.name] = None
            elif field.name == "val_outputs":
                width = max(p[0].shape[1] for p in parts)
                fills = ((0, 0), (1, np.nan), (2, False))
                merged[field.name] = tuple(np.concatenate([_pad(p[j], width, 1, fill) for p in parts])
                                           for j, fill in fills)
            elif np.asarray(parts[0]).ndim == 2:
                padded = [_pad(np.asarray(p, float), epochs, 0, np.nan) for p in parts]
                merged[field.name] = np.concatenate(padded, axis=1)
            else:
                merged[field.name] = np.concatenate([np.asarray(p) for p in parts])
        return MemberFit(**merged)


def _pad(a, width, axis, fill):
    """``a`` padded with ``fill`` to ``width`` along ``axis``."""
    extra = width - a.shape[axis]
    if extra <= 0:
        return a
    shape = list(a.shape)
    shape[axis] = extra
    return np.concatenate([a, np.full(shape, fill, dtype=a.dtype)], axis=axis)


def _row_groups(streams, train_of):
    """Members sharing their stream and training rows (a fold's strengths) see the same
    batches: ``(group [K], first member of each group [G])``."""
    pairs = np.stack([np.asarray(streams, int), np.asarray(train_of, int)], axis=1)
    _, first, group = np.unique(pairs, axis=0, return_index=True, return_inverse=True)
    return group.reshape(-1), first


def fit_members(model, rows, members, training, stopping=None, callback=None):
    """Train ``K = members.K`` elastic-net penalized copies of a Keras model at once.

    Member ``k`` minimizes ``data loss on its rows + l1[k] * sum|W| + l2[k] * sum W**2`` (W:
    the penalized kernels) from its start, as ``model.fit`` would with
    ``kernel_regularizer=L1L2(l1[k], l2[k])`` on those kernels (or ``ElasticNet(...,
    proximal=True)`` with ``training.proximal``), on batches of its rows.

    Parameters
    ----------
    model : keras.Model or callable returning one
        Built and uncompiled; Sequential, Functional or subclassed. Its weights are every
        member's initial weights unless ``members.starts`` are given; the model itself is not
        modified. Penalties it already carries are added as ``model.fit`` adds them.
    rows : kerasnet.path.rows.Rows
        The table, prepared once (:meth:`~kerasnet.path.rows.Rows.prepare`): features (an
        array, a list for several inputs, or streamed chunks: each epoch visits them in a
        shuffled order, so a member's batches never span two chunks), target, row weights
        (a member's data loss is the weighted mean over its rows in a batch) and offset
        (Poisson's log exposure multiplies the output before the loss).
    members : kerasnet.path.members.MemberSpec
        Each member's strengths, training and validation rows, stream, stopping group,
        epoch budget, group-lasso strengths, standardization and start. Member ``k`` sees
        ``(X - x_mean[k]) / x_scale[k]`` and fits ``(y - y_mean[k]) / y_scale[k]`` (its losses
        in those units, its validation outputs in ``y``'s). With ``group`` the first penalized
        kernel carries the group lasso ``group[k] * sum_j ||W[j]||_2`` (or a strength per
        feature; :data:`~kerasnet.path.members.HELD` holds a row at zero) by its exact
        proximal step, in place of ``l1`` / ``l2``, which apply to the other kernels.
    training : kerasnet.path.members.Training
        What all members share: loss, epochs, batch size, optimizer, proximal step, seed,
        glmnet's ``penalty_factor`` on the first kernel's rows, whether to return outputs.
    stopping : kerasnet.path.stopping.StoppingRule or None
        Per-member early stopping on the validation curves, cross-fit within
        ``members.stop_groups`` (:class:`kerasnet.path.stopping.EarlyStopping`); members keep
        their best weights. None: every member trains its budget and keeps its last weights.
    callback : callable or None
        ``callback(epoch, logs)`` after each epoch with a dict of ``[K]`` arrays (``loss``,
        ``val_loss``, ``val_objective``, ``running``).

    Returns
    -------
    weights : list of K lists of ndarray
        Each member's weights in ``model.get_weights()`` order (``model.set_weights(w)``).
    fit : MemberFit
    """
    model = _built(model)
    wide = buckets.widen(model, rows, members, training)  # rows padded to a bucket of features
    if wide is not None:
        model, members, training = wide.model, wide.members, wide.training
    loop = _Loop(model, rows, members, training, stopping)
    for epoch in range(int(training.epochs)):
        if not loop.running.any():
            break
        loop.epoch(epoch)
        if callback is not None:
            callback(epoch, {**{k: v[-1] for k, v in loop.history.items()}, "running": loop.running.copy()})
    weights = member_weights(model, loop.best, members.K)
    return (weights if wide is None else wide.narrow(weights)), loop.result()


def _built(model):
    if keras.backend.backend() not in ("jax", "torch"):
        raise NotImplementedError(
            f"fit_members supports the jax and torch backends, not {keras.backend.backend()!r}."
        )
    model = model() if not isinstance(model, keras.Model) and callable(model) else model
    if not isinstance(model, keras.Model) or not model.built:
        raise ValueError(
            f"model must be a built keras.Model or a function returning one; received {model!r}."
        )
    return model


class _Loop:
    """The epoch loop's state: members' weights, best weights, stopping and history."""

    #: Validate only the members still training once they are at most this share of all.
    GATHER_AT = 0.5

    def __init__(self, model, rows, members, training, stopping):
        K, n = members.K, rows.n
        self.rows, self.training, self.stopping, self.K = rows, training, stopping, K
        self.train_sets, self.train_of = members.train_rows(n)
        self.val_sets, self.val_of = members.val_rows(n)
        self.streams = members.streams
        self.budget = np.full(K, int(training.epochs))
        if members.max_epochs is not None:
            self.budget = np.minimum(np.asarray(members.max_epochs, int), int(training.epochs))
        self.seed0 = 0 if training.seed is None else training.seed
        self.runner, step = runner_for(
            model, optimizer_copy(training.optimizer, training.learning_rate, model), training.loss,
            training.penalized, training.proximal, grouped=members.group is not None,
            factored=training.penalty_factor is not None, skip_idle=rows.padded_features is not None)
        start = None if members.starts is None else (members.starts, members.start_of)
        self.state = initial_state(model, step, K, self.streams, training.seed, start, members.learning_rate)
        factor = None if training.penalty_factor is None else np.broadcast_to(
            np.asarray(training.penalty_factor, "float32"), (K, len(training.penalty_factor)))
        self.settings = member_settings(members.l1, members.l2, members.scaling, members.group, factor)
        self.validated = self.val_sets.any(axis=1)[self.val_of]
        fold_weight = np.array([rows.sw[r].sum() for r in self.val_sets])[self.val_of]
        rule = stopping or StoppingRule()
        self.stopper = EarlyStopping(self.validated, rule.patience, groups=members.stop_groups,
                                     fold_weight=fold_weight, enabled=stopping is not None,
                                     min_delta=rule.min_delta,
                                     warmup=min(int(rule.warmup), int(training.epochs)),
                                     folds=self.val_of,
                                     budget=int(training.epochs) if rule.dominance else None)
        self.grouped = members.stop_groups is not None
        self.best = self.state
        self.running, self.diverged = self.budget > 0, np.zeros(K, bool)
        self.epochs_trained = np.zeros(K, int)
        self.history = {"loss": [], "val_loss": [], "val_objective": []}
        self.group, first = _row_groups(self.streams, self.train_of)
        self.group_sets = self.train_sets[self.train_of[first]]
        self.first = first
        self.steps = rows.steps(self.group_sets, training.batch_size)
        weights_count = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
        self.work = segments.Work(6.0 * training.batch_size * weights_count, self.group,
                                  rounded=rows.padded_features is not None)

    def _passes(self, epoch):
        """Every chunk's steps of this epoch: ``(active [S, K], objective per step [S, K])``."""
        rows, training = self.rows, self.training
        passes = []
        for c in rows.order(self.seed0, epoch, training.shuffle):
            a, b = rows.chunks.bounds[c]
            chunk = None if rows.resident else c
            order = shuffle_orders(b - a, self.streams[self.first], self.seed0, epoch, training.shuffle,
                                   chunk=chunk)
            idx, pad = epoch_batches(order, self.group_sets[:, a:b], training.batch_size, self.steps)
            active = (pad.sum(axis=2) > 0)[:, self.group] & self.running[None, :]
            repeats = (int(training.epochs) - epoch) * rows.chunks.count
            self.state, totals = segments.run_pass(self.runner, self.state, rows.data(c), idx, pad, active,
                                                   self.settings, self.group, self.work, repeats)
            passes.append((active, totals))
        active = np.concatenate([p[0] for p in passes])
        return active, np.where(active, np.concatenate([p[1] for p in passes]), np.nan)

    def epoch(self, epoch):
        """Train one epoch, validate, stop, keep the best weights and record the curves."""
        trained_now = self.running.copy()  # a stopped member's numbers are not recorded (NaN)
        active, totals = self._passes(epoch)
        steps_run = active.sum(axis=0)
        summed = np.where(active, totals, 0.0).sum(axis=0)
        mean_loss = np.where(steps_run > 0, summed / np.maximum(steps_run, 1), np.nan)
        self.epochs_trained += self.running
        bad = self.running & ~np.isfinite(np.where(active, totals, 0.0)).all(axis=0)
        val_loss, penalty = self._validate(trained_now)
        validated = self.validated
        bad |= self.running & validated & ~np.isfinite(val_loss)
        self.diverged |= bad
        objective = np.where(validated & ~self.diverged, val_loss + penalty, np.nan)
        monitor = "val_objective" if self.stopping is None else self.stopping.monitor
        watched = objective if monitor == "val_objective" else np.where(validated & ~self.diverged, val_loss,
                                                                        np.nan)
        keep, stop = self.stopper.update(epoch, np.where(self.diverged, np.inf, watched), self.running & ~bad)
        # Without early stopping a member's weights are its latest.
        keep = (keep if self.stopping is not None else self.running) & ~self.diverged
        # Everyone keeping their latest weights (no early stopping) needs no per-member select.
        self.best = self.state if keep.all() else self.runner.select(to_device(keep), self.state, self.best)
        self.running &= ~(stop | bad) & (self.epochs_trained < self.budget)
        self.history["loss"].append(np.where(self.epochs_trained > 0, mean_loss, np.nan))
        self.history["val_loss"].append(np.where(validated & ~self.diverged & trained_now, val_loss, np.nan))
        self.history["val_objective"].append(np.where(trained_now, objective, np.nan))

    def _validate(self, trained):
        """``(validation data loss [K], penalty [K])`` of the members that trained this epoch
        (NaN for the others).

        Once at most half the members still train, only they are validated, gathered into a
        smaller stack (its width rounded as :mod:`~kerasnet.path.segments` rounds it, so few
        shapes compile): a stopped member's numbers are never read again.
        """
        members = np.flatnonzero(trained & self.validated)
        if len(members) == 0 or segments.width(len(members), self.K) > self.K * self.GATHER_AT:
            return validation_losses(self.rows, self.val_sets, self.val_of, self.runner, self.state,
                                     self.settings)
        index = segments.padded(members, self.K)
        index_t = to_device(index)
        settings = MemberSettings(*[None if p is None else ops.take(p, index_t, axis=0)
                                    for p in self.settings])
        loss, penalty = validation_losses(self.rows, self.val_sets, self.val_of[index], self.runner,
                                          self.runner.take(self.state, index_t), settings)
        val_loss, full_penalty = np.full(self.K, np.nan), np.full(self.K, np.nan)
        val_loss[members], full_penalty[members] = loss[:len(members)], penalty[:len(members)]
        return val_loss, full_penalty

    def result(self):
        """The :class:`MemberFit` of the epochs run."""
        K, early = self.K, self.stopping is not None
        val_hist = np.array(self.history["val_loss"]).reshape(-1, K)
        best_epoch = self.stopper.best_epoch if early else self.epochs_trained.copy()
        pick = np.clip(best_epoch - 1, 0, max(len(val_hist) - 1, 0))
        validated = self.validated.any()
        outputs = None
        if self.training.outputs:
            outputs = validation_outputs(self.rows, self.val_sets, self.val_of, self.runner, self.best,
                                         self.settings)
        return MemberFit(
            loss=np.array(self.history["loss"]).reshape(-1, K),
            val_loss=val_hist if validated else None,
            val_objective=np.array(self.history["val_objective"]).reshape(-1, K) if validated else None,
            best_epoch=best_epoch,
            best_val_loss=val_hist[pick, np.arange(K)] if len(val_hist) else np.full(K, np.nan),
            epochs_trained=self.epochs_trained,
            diverged=self.diverged,
            chosen_epoch=self.stopper.chosen_epoch() if self.grouped and early else best_epoch,
            val_outputs=outputs,
        )
