"""The members of a stacked fit as data: per-member arrays, the rows they use, how they train.

:func:`kerasnet.path.engine.fit_members` trains ``K`` members at once. What differs between
them is a :class:`MemberSpec` of arrays with a leading ``K`` axis (strengths, row sets,
shuffling streams, stopping groups, starts, standardization); what they share is a frozen
:class:`Training` (loss, optimizer, batches, epochs). A spec is cut with :meth:`MemberSpec.take`
and put back together with :meth:`MemberSpec.concat`: the Dask split and the stages of
:func:`kerasnet.fit_path` build their members this way, never by lists of argument names.

Row sets are shared, not per member: ``train_sets [R, n]`` and each member's set
``train_of [K]`` (a members x rows mask would be ``K x n``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .batches import distinct_rows

__all__ = ["HELD", "HOLD", "MemberSpec", "Scaling", "Training", "held"]

#: The per-feature strength that holds a feature's first-layer row at zero (a refit on selected
#: features, glmnet's ``exclude``).
HOLD = 1e30
#: Any per-feature strength at least this large holds the row (float32 keeps ``HOLD`` above it).
HELD = 1e20


def held(strengths):
    """Which per-feature strengths hold their feature at zero (``>= HELD``)."""
    return np.asarray(strengths) >= HELD


def _member_axis(value, K):
    """``value`` as an array with a leading ``K`` axis (a scalar or a ``[K]`` vector broadcast)."""
    value = np.asarray(value)
    return np.broadcast_to(value, (K,) + value.shape[1:]) if value.ndim <= 1 else value


class Scaling(NamedTuple):
    """Each member's standardization: it sees ``(X - x_mean[k]) / x_scale[k]`` and fits
    ``(y - y_mean[k]) / y_scale[k]`` (``y_mean`` None: the target as given). Arrays ``[K, ...]``."""

    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: np.ndarray | None = None
    y_scale: np.ndarray | None = None

    def take(self, index):
        """The members ``index`` (an int array), in that order."""
        return Scaling(*(None if a is None else np.asarray(a)[index] for a in self))

    @staticmethod
    def concat(parts):
        """One scaling of ``parts``' members one after the other (None when any is None)."""
        if any(p is None for p in parts):
            return None
        columns = zip(*parts, strict=True)
        return Scaling(*(None if any(c is None for c in col) else np.concatenate(col) for col in columns))


@dataclass(frozen=True, eq=False)
class MemberSpec:
    """What each of ``K`` members of one stacked fit has of its own.

    Build one with :meth:`of`. Attributes are arrays with a leading ``K`` axis, except the
    shared ``train_sets`` / ``val_sets`` (distinct row sets ``[R, n]``) and ``starts`` (weight
    lists), which members point into with ``train_of`` / ``val_of`` / ``start_of``.

    Attributes
    ----------
    l1, l2 : float arrays [K]
        Elastic-net strengths of the penalized kernels.
    train_sets, train_of : bool [R, n] and int [K], or None (every member: all rows)
    val_sets, val_of : bool [V, n] and int [K], or None (no validation rows)
    streams : int [K]
        Members of one stream share batches and dropout masks.
    stop_groups : int [K] or None
        Cross-fit early stopping groups (a strength's folds; -1: on its own).
    max_epochs : int [K] or None
        Each member's epoch budget (a refit's), at most the training's ``epochs``.
    group : float [K] or [K, d], or None
        Group-lasso strength on the first penalized kernel's rows (feature selection); a
        per-feature strength of :data:`HELD` or more holds that feature at zero.
    scaling : Scaling or None
    starts, start_of : list of weight lists and int [K], or None (the model's weights)
        Each member's initial weights (``model.weights`` order): ``starts[start_of[k]]``.
    learning_rate : float [K] or None
        Each member's optimizer step size (None: the training's). Keras optimizers keep their
        rate in a variable of their state, so members of one stacked step may differ in it; the
        proximal threshold follows each member's rate.
    """

    l1: np.ndarray
    l2: np.ndarray
    train_sets: np.ndarray | None = None
    train_of: np.ndarray | None = None
    val_sets: np.ndarray | None = None
    val_of: np.ndarray | None = None
    streams: np.ndarray | None = None
    stop_groups: np.ndarray | None = None
    max_epochs: np.ndarray | None = None
    group: np.ndarray | None = None
    scaling: Scaling | None = None
    starts: list | None = None
    start_of: np.ndarray | None = None
    learning_rate: np.ndarray | None = None

    @classmethod
    def of(cls, l1, l2=None, *, train=None, val=None, streams=None, stop_groups=None, max_epochs=None,
           group=None, scaling=None, start=None, learning_rate=None):
        """A spec from per-member values, each broadcast to ``K = len(l1)`` members.

        ``train`` / ``val`` are a bool mask ``[K, n]`` or ``(sets [R, n], of [K])``; ``start``
        is ``(weight lists, of [K])``; ``scaling`` a :class:`Scaling` or its four parts.
        """
        l1 = np.atleast_1d(np.asarray(l1, "float32"))
        K = len(l1)
        l2 = np.zeros(K, "float32") if l2 is None else np.broadcast_to(np.asarray(l2, "float32"), (K,))
        if scaling is not None and not isinstance(scaling, Scaling):
            scaling = Scaling(*scaling)
        if group is not None:
            group = _member_axis(np.asarray(group, "float32"), K)
        train_sets, train_of = (None, None) if train is None else _sets(train, K)
        val_sets, val_of = (None, None) if val is None else _sets(val, K)
        starts, start_of = (None, None) if start is None else (list(start[0]), np.asarray(start[1], int))
        optional = {name: None if value is None else _member_axis(np.asarray(value, int), K)
                    for name, value in (("stop_groups", stop_groups), ("max_epochs", max_epochs))}
        rates = None if learning_rate is None else _member_axis(np.asarray(learning_rate, "float32"), K)
        return cls(l1, l2, train_sets, train_of, val_sets, val_of,
                   np.zeros(K, int) if streams is None else _member_axis(np.asarray(streams, int), K),
                   group=group, scaling=scaling, starts=starts, start_of=start_of, learning_rate=rates,
                   **optional)

    @property
    def K(self):
        """The number of members."""
        return len(self.l1)

    def take(self, index):
        """The members ``index`` (an int array), in that order; shared row sets and starts kept."""
        index = np.asarray(index, int)
        per_member = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                      if f.name not in ("train_sets", "val_sets", "starts", "scaling")}
        taken = {name: None if value is None else np.asarray(value)[index]
                 for name, value in per_member.items()}
        scaling = None if self.scaling is None else self.scaling.take(index)
        return dataclasses.replace(self, **taken, scaling=scaling)

    @staticmethod
    def concat(specs):
        """One spec of ``specs``' members one after the other (row sets and starts joined)."""
        specs = list(specs)
        first = specs[0]
        joined = {}
        for sets, of in (("train_sets", "train_of"), ("val_sets", "val_of"), ("starts", "start_of")):
            joined[sets], joined[of] = _joined([(getattr(s, sets), getattr(s, of), s.K) for s in specs])
        for name in ("l1", "l2", "streams", "stop_groups", "max_epochs", "group", "learning_rate"):
            values = [getattr(s, name) for s in specs]
            joined[name] = None if any(v is None for v in values) else np.concatenate(values)
        return dataclasses.replace(first, **joined, scaling=Scaling.concat([s.scaling for s in specs]))

    def train_rows(self, n):
        """``(sets [R, n], of [K])``: all rows for every member when none were given."""
        if self.train_sets is None:
            return np.ones((1, n), bool), np.zeros(self.K, int)
        return self.train_sets, self.train_of

    def val_rows(self, n):
        """``(sets [V, n], of [K])``: no rows for every member when none were given."""
        if self.val_sets is None:
            return np.zeros((1, n), bool), np.zeros(self.K, int)
        return self.val_sets, self.val_of


def _sets(rows, K):
    """``(sets, of)`` from a ``[K, n]`` mask or a ``(sets, of)`` pair."""
    if isinstance(rows, tuple):
        sets, of = rows
        return np.asarray(sets, bool), _member_axis(np.asarray(of, int), K)
    return distinct_rows(np.asarray(rows, bool))


def _joined(parts):
    """Shared sets and each member's index into them, for specs one after the other: one set
    list when all specs share it, else the lists joined with the indices shifted."""
    if all(sets is None for sets, _, _ in parts):
        return None, None
    if any(sets is None for sets, _, _ in parts):
        raise ValueError("cannot join member specs where only some give row sets or starts.")
    if all(sets is parts[0][0] for sets, _, _ in parts):
        return parts[0][0], np.concatenate([of for _, of, _ in parts])
    joined, offsets, at = [], [], 0
    for sets, of, _ in parts:
        joined.extend(list(sets))
        offsets.append(np.asarray(of) + at)
        at += len(sets)
    stacked = np.stack(joined) if isinstance(parts[0][0], np.ndarray) else joined
    return stacked, np.concatenate(offsets)


@dataclass(frozen=True, eq=False)
class Training:
    """What every member of one stacked fit shares (frozen).

    Attributes
    ----------
    loss : str, keras loss function or keras.losses.Loss
    epochs, batch_size : int
    optimizer : str or keras.optimizers.Optimizer
        A name or an instance (copied through its config, never modified).
    learning_rate : float or None
        Overrides the optimizer's rate when given.
    proximal : bool
        L1 by soft-thresholding after each update (exact zeros) instead of in the gradient.
    penalized : None, layer names/classes, or predicate
        Layers whose kernels carry the penalty (None: all, as :func:`kerasnet.penalize`).
    seed : int or None
        Shuffling and dropout seed. ``shuffle`` False: rows in order.
    penalty_factor : float array [d] or None
        glmnet's ``penalty.factor`` on the first penalized kernel's rows (:data:`HELD`: held).
    outputs : bool
        Also return each member's outputs on its validation rows.
    """

    loss: object
    epochs: int = 10
    batch_size: int = 32
    optimizer: object = "adam"
    learning_rate: float | None = None
    proximal: bool = False
    penalized: object = None
    seed: int | None = None
    shuffle: bool = True
    penalty_factor: np.ndarray | None = None
    outputs: bool = False

    def replace(self, **changes):
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)
