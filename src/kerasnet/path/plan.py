"""The plan of a path, built once from the inputs: row sets, the member grid, scaling, training.

:func:`kerasnet.fit_path` turns its arguments into a :class:`Plan` (which rows each split
trains and is scored on, row weights, each set's standardization, how members train and
stop) and a :class:`MemberGrid` (who member ``k`` is: strength ``k // per``, split
``k % per``). Every stage (:mod:`kerasnet.path.stages`) reads them; none rebuilds them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .members import Scaling, Training, held
from .standardize import member_scaling, target_moments
from .stopping import StoppingRule

__all__ = ["MemberGrid", "Plan", "Statistics"]


@dataclass(frozen=True, eq=False)
class Statistics:
    """The MLP path's one pass over the rows (:func:`kerasnet.path.standardize.path_statistics`).

    Attributes
    ----------
    x : (mean [F + 1, d], sd [F + 1, d])
        Each row set's feature moments (the splits' training rows, then all rows; zeros and
        ones when not standardizing).
    y : (mean, sd)
        The regression target's on all rows (zeros and ones for other tasks or unstandardized).
    gradient : array [d, k]
        The null model's gradient on all rows (the grid's ``lambda_max``).
    """

    x: tuple
    y: tuple
    gradient: np.ndarray


@dataclass(frozen=True, eq=False)
class MemberGrid:
    """Who each member of a path's fit is: member ``k`` is strength ``k // per`` on split ``k % per``.

    Splits ``0 .. F-1`` are the CV folds (train on the fold's training rows, scored on its
    test rows); split ``F`` is all rows (the refit). ``per`` is ``F``, or ``F + 1`` when the
    refits train in the same fit as the CV members (no early stopping: one program).

    Attributes
    ----------
    lambdas : float array [L]
    n_splits : int
        ``F``, the CV folds.
    per : int
        Members per strength.
    """

    lambdas: np.ndarray
    n_splits: int
    per: int

    @classmethod
    def of(cls, lambdas, n_splits, refits_joined=False):
        """The grid of ``lambdas`` x the ``n_splits`` folds (and the refits when joined)."""
        return cls(np.asarray(lambdas, float), int(n_splits), int(n_splits) + bool(refits_joined))

    @property
    def L(self):
        """The number of strengths."""
        return len(self.lambdas)

    @property
    def K(self):
        """The number of members."""
        return self.L * self.per

    @property
    def joined(self):
        """Whether the refits are members of the same fit (split ``F``)."""
        return self.per > self.n_splits

    @property
    def strength(self):
        """``[K]``: each member's strength index."""
        return np.repeat(np.arange(self.L), self.per)

    @property
    def split(self):
        """``[K]``: each member's split (``F``: the refit on all rows)."""
        return np.tile(np.arange(self.per), self.L)

    @property
    def is_cv(self):
        """``[K]``: the CV members (not the refits)."""
        return self.split < self.n_splits

    def member(self, i, f):
        """The member of strength ``i`` on split ``f``."""
        return int(i) * self.per + int(f)

    def cv_matrix(self, values):
        """``[L, F, ...]``: a per-member array ``values [K, ...]`` of the CV members, by strength and fold."""
        values = np.asarray(values)
        return values[self.is_cv].reshape((self.L, self.n_splits) + values.shape[1:])

    def with_lambdas(self, lambdas):
        """The same layout over other strengths."""
        return dataclasses.replace(self, lambdas=np.asarray(lambdas, float))


@dataclass(frozen=True, eq=False)
class Plan:
    """What every stage of one path reads, fixed before training starts.

    Attributes
    ----------
    task, measure : str
    y : array [n, ...]
        The target as the network fits it (class codes; raw regression values).
    weight : float array [n]
        Row weights, summing to ``n``.
    train_rows, test_rows : bool arrays [F, n]
        Each CV split's training and test rows.
    offset : float array [n] or None
        Poisson's log exposure.
    factor : float array [d] or None
        glmnet's ``penalty.factor`` (:data:`~kerasnet.path.members.HELD`: excluded).
    stats : Statistics or None
        The MLP's one pass over the rows (None: a user's model).
    standardize : bool
        Whether members standardize their inputs (and a regression target) with their rows.
    training : kerasnet.path.members.Training
        How every member trains (``outputs`` set by the stages that score).
    stopping : kerasnet.path.stopping.StoppingRule or None
        Cross-fit early stopping of the CV members (None: every member trains ``epochs``).
    scheduler : str, dask.distributed.Client or None
        Where the members train (None: here).
    keep : bool
        Keep the out-of-fold predictions.
    """

    task: str
    measure: str
    y: np.ndarray
    weight: np.ndarray
    train_rows: np.ndarray
    test_rows: np.ndarray
    offset: np.ndarray | None
    factor: np.ndarray | None
    stats: Statistics | None
    standardize: bool
    training: Training
    stopping: StoppingRule | None
    scheduler: object = None
    keep: bool = False

    @property
    def n(self):
        """The number of rows."""
        return len(self.y)

    @property
    def F(self):
        """The number of CV splits."""
        return len(self.train_rows)

    @cached_property
    def row_sets(self):
        """``[F + 1, n]``: each split's training rows, then all rows (the refit's)."""
        return np.concatenate([self.train_rows, np.ones((1, self.n), bool)])

    @cached_property
    def test_sets(self):
        """``[F + 1, n]``: each split's test rows, then none (the refit is not scored)."""
        return np.concatenate([self.test_rows, np.zeros((1, self.n), bool)])

    @property
    def fold_weights(self):
        """``[F]``: each fold's total row weight (how glmnet weighs folds)."""
        return (self.test_rows * self.weight).sum(axis=1)

    @property
    def everything(self):
        """The index of the all-rows set in :attr:`row_sets`."""
        return self.F

    @cached_property
    def held(self):
        """``[d]`` bool: the features held at zero at every strength (glmnet's ``exclude``), or None."""
        return None if self.factor is None else held(self.factor)

    def scaling(self, of):
        """The :class:`~kerasnet.path.members.Scaling` of members on row sets ``of [K]`` (None:
        inputs as given)."""
        if not self.standardize:
            return None
        return Scaling(*member_scaling(np.asarray(of, int), self.stats.x, self.target_moments))

    @cached_property
    def target_moments(self):
        """Each row set's regression target moments (once per plan: every stage's scaling reads
        them), or None."""
        return target_moments(self.y, self.row_sets, self.task, self.weight) if self.standardize else None

    @property
    def y_scale(self):
        """The regression target's sd on all rows (the refits' units), else None."""
        return self.stats.y[1] if self.task == "regression" else None

    def refit_scaling(self, K):
        """The scaling of ``K`` members on all rows."""
        return self.scaling(np.full(K, self.everything))
