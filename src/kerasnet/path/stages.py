"""The training stages of a path: dense starts, CV, refit; each a function of the plan.

Every stage takes the :class:`~kerasnet.path.plan.Plan`, the rows prepared once
(:class:`~kerasnet.path.rows.Rows`), the network and what it trains (a
:class:`~kerasnet.path.plan.MemberGrid` and :class:`Strengths`), and returns a small
dataclass. :func:`kerasnet.fit_path` runs them in order: (dense starts,) CV and refit, the
grid's ends, (adaptive,) (relax).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import measures
from .distributed import fit_members_on_cluster
from .engine import MemberFit, fit_members
from .folds import refit_epochs_for
from .grid import cv_summary
from .members import HOLD, MemberSpec
from .progress import measure_readout
from .survival_cv import fold_events, grouped_deviance

__all__ = ["CVStage", "Fits", "RefitStage", "Strengths", "cv_and_refit", "dense_starts", "train"]


def train(plan, network, rows, members, training, stopping=None, callback=None):
    """:func:`~kerasnet.path.engine.fit_members` here, or across the plan's Dask cluster."""
    if plan.scheduler is None:
        return fit_members(network, rows, members, training, stopping, callback)
    return fit_members_on_cluster(plan.scheduler, network, rows, members, training, stopping,
                                  callback=callback)


@dataclass(frozen=True, eq=False)
class Strengths:
    """The penalty of a stage's members.

    Attributes
    ----------
    l1, l2 : float arrays [L]
        Each strength's elastic net on the penalized kernels.
    group_cv : float array [K] or [K, d], or None
        Each CV member's group-lasso strength on the first layer's rows (feature selection;
        a per-feature :data:`~kerasnet.path.members.HOLD` holds a feature at zero).
    group_refit : float array [L] or [L, d], or None
        The same for each strength's refit.
    """

    l1: np.ndarray
    l2: np.ndarray
    group_cv: np.ndarray | None = None
    group_refit: np.ndarray | None = None

    @classmethod
    def elastic_net(cls, lambdas, l1_ratio):
        """glmnet's ``lambda * (l1_ratio |W|_1 + (1 - l1_ratio) / 2 |W|_2^2)``."""
        lambdas = np.asarray(lambdas, float)
        return cls(lambdas * l1_ratio, lambdas * (1 - l1_ratio) / 2)


@dataclass(frozen=True, eq=False)
class CVStage:
    """The CV members of one fit (member order of its :class:`~kerasnet.path.plan.MemberGrid`).

    Attributes
    ----------
    weights : list of K weight lists
    fit : kerasnet.path.engine.MemberFit
    values : dict of str to float array [L, F]
        Every measure of the task, each CV member on its test rows.
    oof : float array [L, n, o] or None
        Out-of-fold predictions (``keep``).
    """

    weights: list
    fit: MemberFit
    values: dict
    oof: np.ndarray | None


@dataclass(frozen=True, eq=False)
class RefitStage:
    """Each strength's network on all rows.

    Attributes
    ----------
    weights : list of L weight lists
    fit : kerasnet.path.engine.MemberFit or None
        None when the refits trained in the CV fit (no early stopping).
    epochs : int array [L]
        Epochs each refit trained.
    diverged : bool array [L]
    """

    weights: list
    fit: MemberFit | None
    epochs: np.ndarray
    diverged: np.ndarray


@dataclass(frozen=True, eq=False)
class Fits:
    """A stage's CV members and refits over the strengths of ``grid``."""

    grid: object
    cv: CVStage
    refit: RefitStage

    def excluded(self):
        """``[L, F]``: CV members left out of the CV curve (diverged, or their strength's refit did)."""
        return self.grid.cv_matrix(self.cv.fit.diverged) | np.asarray(self.refit.diverged, bool)[:, None]

    def cv_mean(self, plan):
        """The CV curve ``[L]`` of the plan's measure (glmnet's ``cvm``)."""
        folds = (fold_events(plan.task, plan.y, plan.weight, plan.test_rows) or {}).get(plan.measure,
                                                                                         plan.fold_weights)
        return cv_summary(self.cv.values[plan.measure], self.excluded(), folds)[0]

    def then(self, other):
        """These strengths followed by ``other``'s (a fit of the strengths below or above)."""
        cv = CVStage(list(self.cv.weights) + list(other.cv.weights),
                     MemberFit.concat([self.cv.fit, other.cv.fit]),
                     {m: np.concatenate([v, other.cv.values[m]]) for m, v in self.cv.values.items()},
                     None if self.cv.oof is None else np.concatenate([self.cv.oof, other.cv.oof]))
        refit = RefitStage(list(self.refit.weights) + list(other.refit.weights),
                           MemberFit.concat([self.refit.fit, other.refit.fit]),
                           np.concatenate([self.refit.epochs, other.refit.epochs]),
                           np.concatenate([self.refit.diverged, other.refit.diverged]))
        lambdas = np.concatenate([self.grid.lambdas, other.grid.lambdas])
        return Fits(self.grid.with_lambdas(lambdas), cv, refit)

    def without_leading(self, count):
        """These fits without the first ``count`` strengths."""
        first = count * self.grid.per
        members = np.arange(first, self.grid.K)
        refits = np.arange(count, self.grid.L)
        cv = CVStage(list(self.cv.weights)[first:], self.cv.fit.take(members),
                     {m: np.asarray(v)[count:] for m, v in self.cv.values.items()},
                     None if self.cv.oof is None else np.asarray(self.cv.oof)[count:])
        refit = RefitStage(list(self.refit.weights)[count:],
                           None if self.refit.fit is None else self.refit.fit.take(refits),
                           np.asarray(self.refit.epochs)[count:], np.asarray(self.refit.diverged)[count:])
        return Fits(self.grid.with_lambdas(self.grid.lambdas[count:]), cv, refit)


def _cv_members(plan, grid, strengths, starts):
    split = grid.split
    return MemberSpec.of(
        np.repeat(strengths.l1, grid.per), np.repeat(strengths.l2, grid.per), train=(plan.row_sets, split),
        val=(plan.test_sets, split), streams=split, stop_groups=np.where(grid.is_cv, grid.strength, -1),
        group=strengths.group_cv, scaling=plan.scaling(split),
        start=None if starts is None else (starts, split))


def cross_validate(plan, rows, network, grid, strengths, starts, progress, name):
    """Train the CV members of ``grid`` (and its refits when joined) and score them on their test rows.

    Each member starts from its split's network in ``starts`` (feature selection's dense
    starts; None: the network's weights). Returns a :class:`CVStage`.
    """
    members = _cv_members(plan, grid, strengths, starts)
    progress.phase(name, plan.training.epochs, (grid.L, grid.per),
                   measure_readout(plan.task, plan.measure, plan.y, plan.weight, plan.test_sets, grid.split,
                                   members.scaling))
    weights, fit = train(plan, network, rows, members, plan.training.replace(outputs=True), plan.stopping,
                         progress)
    values, oof = measures.cross_validated(fit.val_outputs, grid.is_cv, plan.y, plan.task, plan.weight,
                                           grid.L, grid.n_splits, plan.keep)
    if plan.task == "cox":  # cv.glmnet's default: the grouped deviance, from outputs on all rows
        values["deviance"] = grouped_deviance(network, rows, weights, members.scaling, plan.test_rows, grid)
    return CVStage(weights, fit, values, oof)


def refit(plan, rows, network, grid, strengths, cv, starts, progress):
    """Each strength on all rows, for the optimizer steps its CV members chose (a :class:`RefitStage`).

    The steps are those of the best epoch of the strength's all-folds mean curve on a fold's
    rows (:func:`kerasnet.path.folds.refit_epochs_for`). When the refits trained in the CV fit
    (``grid.joined``), they are taken from it.
    """
    L = grid.L
    if grid.joined:
        refits = np.flatnonzero(~grid.is_cv)
        return RefitStage([cv.weights[k] for k in refits], None, np.full(L, plan.training.epochs),
                          cv.fit.diverged[refits])
    chosen = grid.cv_matrix(cv.fit.chosen_epoch)[:, 0]
    epochs = refit_epochs_for(chosen, plan.train_rows, plan.training.batch_size, plan.n)
    progress.phase("Refit", int(epochs.max()), (L, 1))
    everything = np.full(L, plan.everything)
    members = MemberSpec.of(strengths.l1, strengths.l2, train=(plan.row_sets, everything), max_epochs=epochs,
                            group=strengths.group_refit, scaling=plan.scaling(everything),
                            start=None if starts is None else (starts, everything))
    weights, fit = train(plan, network, rows, members, plan.training.replace(epochs=int(epochs.max())), None,
                         progress)
    return RefitStage(weights, fit, epochs, fit.diverged)


def cv_and_refit(plan, rows, network, grid, strengths, starts, progress, name):
    """:func:`cross_validate` then :func:`refit`: the :class:`Fits` of one stage."""
    cv = cross_validate(plan, rows, network, grid, strengths, starts, progress, name)
    return Fits(grid, cv, refit(plan, rows, network, grid, strengths, cv, starts, progress))


def dense_starts(plan, rows, network, hidden_l2, progress):
    """Feature selection's warm starts: the network of every split without the feature penalty.

    Split ``f``'s network trains on its training rows (early stopping cross-fit on the other
    splits' test rows, as every member of the path); the all-rows network for as many steps
    as the splits' chosen epoch. Returns ``F + 1`` weight lists (the last on all rows): each
    member of the path starts from its split's, as LassoNet's path starts from its dense
    model, so the features the network uses are in before the penalty decides. Excluded
    features (:data:`~kerasnet.path.members.HELD` factors) stay out of the starts too.
    """
    F, epochs = plan.F, plan.training.epochs
    folds = np.arange(F)
    # [1], or [1, d] holding the excluded features
    hold = np.zeros(1) if plan.held is None else np.where(plan.held, HOLD, 0.0)[None]
    progress.phase("Dense", epochs, (1, F))
    members = MemberSpec.of(np.zeros(F), np.full(F, hidden_l2), train=(plan.row_sets, folds),
                            val=(plan.test_sets, folds), streams=folds, stop_groups=np.zeros(F, int),
                            group=np.broadcast_to(hold, (F,) + hold.shape[1:]), scaling=plan.scaling(folds))
    starts, dense = train(plan, network, rows, members, plan.training, plan.stopping, progress)
    chosen = dense.chosen_epoch[:1] if plan.stopping is not None else np.array([epochs])
    refit_epochs = refit_epochs_for(chosen, plan.train_rows, plan.training.batch_size, plan.n) \
        if plan.stopping is not None else chosen
    progress.phase("Dense", int(refit_epochs[0]), (1, 1))
    everything = np.array([plan.everything])
    members = MemberSpec.of([0.0], [hidden_l2], train=(plan.row_sets, everything), group=hold,
                            scaling=plan.scaling(everything))
    whole, _ = train(plan, network, rows, members, plan.training.replace(epochs=int(refit_epochs[0])), None,
                     progress)
    return list(starts) + list(whole)

