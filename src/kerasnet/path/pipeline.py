"""The stages of :func:`kerasnet.fit_path` in order, from its plan to its :class:`Path`.

:func:`run_stages` is the path's training: feature selection's dense starts, the first grid
(given, glmnet's, the group lasso's top, or the MLP's probed top), CV and refit, the grid's ends
read from the fitted path, the adaptive stage and relaxed refits; :func:`path_of` makes the
:class:`~kerasnet.path.result.Path` of its fits, and :func:`linear_baseline` the linear path on the
same plan and rows. Each is a function of the :class:`~kerasnet.path.plan.Plan`, the rows prepared
once and the network; none keeps state of its own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..models import mlp
from ..penalty import check_strength
from . import defaults, grid, grid_ends, measures
from .baselines import LINEAR_LEARNING_RATE, linear_skip_reason, null_measures
from .explained import deviance_explained
from .features import (
    adaptive_factors,
    adaptive_gamma,
    first_layer_norms,
    group_lambda_max,
    held_out,
    scaled_strengths,
)
from .inputs import NumpyGlorotUniform, penalty_factors, poisson_offset
from .plan import MemberGrid, Statistics
from .progress import Progress
from .result import Path
from .sources import Chunks
from .stages import Strengths, cv_and_refit, dense_starts
from .standardize import path_statistics
from .step import kernel_positions
from .survival_cv import fold_events

__all__ = ["GridEnds", "Selection", "linear_baseline", "path_of", "path_settings", "run_stages", "statistics"]


@dataclass(frozen=True)
class Selection:
    """Feature selection's settings: the group lasso on the inputs, its adaptive ``gamma``
    (None: no adaptive stage) and relaxed refits."""

    active: bool
    hidden_l2: float
    adaptive: float | None
    relax: bool

    @classmethod
    def checked(cls, feature_selection, hidden_l2, adaptive, relax, model):
        """``fit_path``'s feature-selection arguments, checked (a ValueError names the problem)."""
        if feature_selection and model is not None:
            raise ValueError("feature_selection=True selects the input features of the MLP (model=None); "
                             "a model of your own has no first layer of features to group.")
        hidden_l2 = check_strength(hidden_l2, "hidden_l2")
        explicit = adaptive is not True and adaptive is not None and adaptive is not False  # a gamma
        if (relax or explicit) and not feature_selection:
            raise ValueError("relax= and adaptive= act on the selected input features; they need "
                             "feature_selection=True.")
        gamma = adaptive_gamma(adaptive) if feature_selection else None
        return cls(bool(feature_selection), hidden_l2, gamma, bool(relax))


@dataclass(frozen=True, eq=False)
class GridEnds:
    """The grid as asked for: given ``lambdas`` (None: from the data) and, for the default MLP
    grid (``probing``), its top from a probe and read from the fitted path, its bottom extended."""

    lambdas: object
    n_lambdas: int
    lambda_min_ratio: float
    l1_ratio: float
    probing: bool


def statistics(X, y, task, train_rows, weight, standardize, offset, factor):
    """The MLP path's one pass over the rows (blocks, or a streamed file's chunks): every row
    set's feature moments, the target's, and the null gradient."""
    chunks = X if isinstance(X, Chunks) else Chunks.blocks(X)
    free = None if factor is None or isinstance(X, Chunks) else np.asarray(X)[:, factor == 0]
    sets = np.concatenate([train_rows, np.ones((1, len(y)), bool)])
    x_stats, y_all, G = path_statistics(chunks, y, task, sets, weight, standardize,
                                        None if offset is None else np.exp(offset), free)
    return Statistics(x_stats, y_all, G)


@dataclass(frozen=True, eq=False)
class Penalty:
    """How a stage's strengths become its members' penalties."""

    l1_ratio: float
    factor: np.ndarray | None

    def of(self, grid_, selection, factors=None):
        """The penalties over ``grid_``: the elastic net, or with feature selection the group lasso
        (times the per-split ``factors`` when given, else glmnet's ``penalty.factor``) with a fixed
        L2 on every other kernel."""
        if not selection.active:
            return Strengths.elastic_net(grid_.lambdas, self.l1_ratio)
        L, F = grid_.L, grid_.n_splits
        factors = self.factor if factors is None else factors
        return Strengths(np.zeros(L), np.full(L, selection.hidden_l2),
                         scaled_strengths(grid_.lambdas[grid_.strength], grid_.split, factors),
                         scaled_strengths(grid_.lambdas, np.full(L, F), factors))


def group_top(plan, rows, network, hidden, factors):
    """The group lasso's ``lambda_max`` with per-feature ``factors`` (feature selection)."""
    stats = plan.stats
    return group_lambda_max(network, rows, plan.training.loss, stats.x[0][-1], stats.x[1][-1],
                            y_scale=stats.y if plan.task == "regression" else None,
                            linear_gradient=stats.gradient if not hidden else None,
                            seed=plan.training.seed or 0, factors=factors)


def first_lambdas(plan, rows, network, ends, selection, hidden, starts):
    """The path's first grid: given, glmnet's from the data, the group lasso's top, or the MLP's
    probed top (:mod:`kerasnet.path.grid_ends`)."""
    lambdas = ends.lambdas
    if plan.stats is None:  # a user's model: the grid from its inputs flattened
        return grid.path_lambdas(lambdas, rows.chunks.read(0), plan.y, plan.task, ends.l1_ratio,
                                 ends.n_lambdas, ends.lambda_min_ratio, plan.weight, linear=False)
    if selection.active and lambdas is None:
        lambdas = grid.lambda_grid(group_top(plan, rows, network, hidden, plan.factor), ends.n_lambdas,
                                   ends.lambda_min_ratio)
    lambdas = grid.path_lambdas(lambdas, None, plan.y, plan.task, ends.l1_ratio, ends.n_lambdas,
                                ends.lambda_min_ratio, plan.weight, linear=not hidden,
                                gradient=plan.stats.gradient, factor=plan.factor)
    if ends.probing:  # the top where the network empties: a short stacked fit on all rows
        training = plan.training
        epochs = training.epochs
        if training.proximal:
            epochs = grid_ends.probe_epochs(plan.n, training.batch_size, training.learning_rate, epochs)
        run, _ = grid_ends.probe_runner(plan, rows, network, epochs)
        lambdas = grid_ends.probed_lambdas(lambdas, ends.l1_ratio, ends.lambda_min_ratio, run)
    return lambdas


def run_stages(plan, rows, network, ends, selection, hidden, progress):
    """Every training stage in order; returns the path's :class:`~kerasnet.path.stages.Fits`
    and the relaxed ones (None without ``relax``)."""
    starts = None
    if selection.active and hidden:
        starts = dense_starts(plan, rows, network, selection.hidden_l2, progress)
        network.set_weights(starts[plan.F])  # the network on all rows: where the grid starts
    lambdas = first_lambdas(plan, rows, network, ends, selection, hidden, starts)
    grid_ = MemberGrid.of(lambdas, plan.F, refits_joined=plan.stopping is None)
    penalty = Penalty(ends.l1_ratio, plan.factor)
    fits = cv_and_refit(plan, rows, network, grid_, penalty.of(grid_, selection), starts, progress, "CV   ")
    if ends.probing:
        fits = read_grid_ends(plan, rows, network, fits, ends, progress)
    if selection.adaptive is not None:  # a second path: the first path's own norms weigh each feature
        fits = adaptive_stage(plan, rows, network, fits, ends, selection, hidden, starts, progress)
    relaxed = None
    if selection.relax:  # every point again on exactly its own features, without the feature penalty
        # From the split's dense network (the path's own start), its other features held at zero.
        strengths = penalty.of(fits.grid, selection)
        strengths = Strengths(strengths.l1, strengths.l2, held_out(fits.cv.weights),
                              held_out(fits.refit.weights))
        relaxed = cv_and_refit(plan, rows, network, fits.grid, strengths, starts, progress, "Relax")
    return fits, relaxed


def null_top(plan, rows, network, fits):
    """How many leading strengths of ``fits`` give the null model (:func:`grid_ends.null_top`)."""
    null = null_measures(plan.task, plan.y, plan.weight, plan.train_rows, plan.test_rows, plan.offset,
                         plan.fold_weights, fold_events(plan.task, plan.y, plan.weight, plan.test_rows))
    empty = grid_ends.refit_empty(plan, rows, network, fits.refit.weights)
    return grid_ends.null_top(fits.cv_mean(plan), null[plan.measure][0],
                              measures.greater_is_better(plan.measure), empty)


def read_grid_ends(plan, rows, network, fits, ends, progress):
    """The default MLP grid's ends read from the fitted path: strengths above its top while the
    top learns, all but one leading null-model strength dropped, strengths below its bottom while
    the minimum is there (:mod:`kerasnet.path.grid_ends`). Strengths are independent, so each
    addition is a fit of its own, joined to the path."""
    def stage(lambdas, name):
        more = fits.grid.with_lambdas(lambdas)
        return cv_and_refit(plan, rows, network, more, Strengths.elastic_net(lambdas, ends.l1_ratio), None,
                            progress, name)

    for _ in range(grid_ends.MAX_RAISES):  # the top learns: go higher
        above = grid_ends.raised_lambdas(fits.grid.lambdas)
        if null_top(plan, rows, network, fits) or not len(above):
            break
        fits = stage(above, "Upper").then(fits)
    drop = null_top(plan, rows, network, fits) - 1
    if 0 < drop < fits.grid.L - 1:  # one strength at the top gives the null model, not more (nor all of them)
        fits = fits.without_leading(drop)
    greater = measures.greater_is_better(plan.measure)
    for _ in range(grid_ends.MAX_EXTENSIONS):  # the minimum at the bottom: go lower
        if grid.select_min(fits.grid.lambdas, fits.cv_mean(plan), greater) != fits.grid.L - 1:
            break
        below = grid_ends.extended_lambdas(fits.grid.lambdas, grid_ends.extension_count(ends.n_lambdas))
        fits = fits.then(stage(below, "Lower"))
    return fits


def adaptive_stage(plan, rows, network, fits, ends, selection, hidden, starts, progress):
    """The adaptive group lasso: a second path whose features are weighed by the first path's
    norms, each split's from its own member at the strength chosen without its test rows
    (:func:`kerasnet.path.features.adaptive_factors`), on its own grid unless one was given."""
    first = fits.grid
    norms = first_layer_norms(fits.cv.weights).reshape(first.L, first.per, -1)[:, :first.n_splits]
    norms = np.concatenate([norms, first_layer_norms(fits.refit.weights)[:, None]], axis=1)
    factors = adaptive_factors(norms, fits.cv.values[plan.measure], fits.excluded(), plan.fold_weights,
                               first.lambdas, measures.greater_is_better(plan.measure), selection.adaptive)
    factors = factors if plan.factor is None else factors * plan.factor  # glmnet's factors times the adaptive
    lambdas = first.lambdas
    top = ends.lambdas is None and group_top(plan, rows, network, hidden, factors[plan.F])
    if top:  # else the given grid, or no feature left on all rows: the first grid
        lambdas = grid.lambda_grid(top, ends.n_lambdas, ends.lambda_min_ratio)
    second = first.with_lambdas(lambdas)
    strengths = Penalty(ends.l1_ratio, plan.factor).of(second, selection, factors)
    return cv_and_refit(plan, rows, network, second, strengths, starts, progress, "Adapt")


def path_settings(plan, network, selection, l1_ratio, classes, names, n_outputs, hidden, model, penalized):
    """What a path's :class:`~kerasnet.path.result.Path` (and its relaxed and linear ones) share:
    the encoding, and the MLP's standardization or a user's architecture."""
    shared = dict(l1_ratio=l1_ratio, classes=classes, feature_names=names, n_outputs=n_outputs,
                  feature_selection=selection.active,
                  hidden_l2=selection.hidden_l2 if selection.active else 0.0)
    if model is None:
        stats = plan.stats
        return {**shared, "mean": stats.x[0][-1], "scale": stats.x[1][-1], "y_mean": stats.y[0],
                "y_scale": stats.y[1], "hidden": tuple(hidden)}
    return {**shared, "architecture": model, "penalized": penalized,
            "kernels": kernel_positions(network, penalized)}


def path_of(plan, rows, network, fits, shared, relaxed=None):
    """The :class:`~kerasnet.path.result.Path` of ``fits``, with glmnet's ``dev.ratio`` of its refits
    on their own rows."""
    members = fits.grid
    dev_ratio = deviance_explained(network, rows, fits.refit.weights, plan.task,
                                   plan.refit_scaling(members.L))
    return Path(lambdas=members.lambdas, task=plan.task, measure=plan.measure, cv_values=fits.cv.values,
                member_diverged=members.cv_matrix(fits.cv.fit.diverged),
                best_epoch=members.cv_matrix(fits.cv.fit.best_epoch), refit_epochs=fits.refit.epochs,
                refit_diverged=fits.refit.diverged, weights=fits.refit.weights,
                history={"cv": fits.cv.fit, "refit": fits.refit.fit}, oof_predictions=fits.cv.oof,
                fold_weights=plan.fold_weights, measure_weights=fold_events(plan.task, plan.y, plan.weight,
                                                                            plan.test_rows),
                proximal=plan.training.proximal, penalty_factor=plan.factor, dev_ratio=dev_ratio,
                relaxed=relaxed, members=members, **shared)


def linear_baseline(plan, rows, ends, shared, penalty_factor, exclude):
    """The linear baseline of an MLP path (:mod:`kerasnet.path.baselines`): ``fit_path(hidden=())``
    on the same splits, rows, weights, offset and penalty factors, its own default grid, a learning
    rate of at least :data:`~kerasnet.path.baselines.LINEAR_LEARNING_RATE` and all ``epochs`` (at
    most 100) without early stopping; or why it is skipped (the path is linear)."""
    reason = linear_skip_reason(None, shared["hidden"], None)
    if reason:
        return reason
    names, seed = shared["feature_names"], plan.training.seed

    def linear_path(pairs):  # pairs: the plan's own splits, which it already holds
        network = mlp(len(names), shared["n_outputs"], (), plan.task, seed=seed,
                      kernel_initializer=NumpyGlorotUniform(seed))
        factor = penalty_factors(penalty_factor, exclude, names, network)
        poisson_offset(plan.offset, plan.y, plan.weight, plan.task, False, network)  # its output bias
        training = plan.training.replace(
            epochs=min(plan.training.epochs, defaults.EPOCHS), penalty_factor=factor,
            learning_rate=max(plan.training.learning_rate or 0.0, LINEAR_LEARNING_RATE))
        linear = dataclasses.replace(plan, training=training, stopping=None, keep=False, factor=factor)
        fits, _ = run_stages(linear, rows, network, dataclasses.replace(ends, lambdas=None, probing=False),
                          Selection(False, 0.0, None, False), (), Progress(0))
        return path_of(linear, rows, network, fits, {**shared, "hidden": (), "feature_selection": False,
                                                   "hidden_l2": 0.0})

    return linear_path
