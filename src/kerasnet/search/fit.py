"""Search more than the strength: every configuration x strength x fold in one stacked fit per depth.

:func:`search` is :func:`kerasnet.fit_path`'s cross-validation carried over to a space of
settings (:mod:`kerasnet.search.space`): the elastic-net strength and mix, Adam's learning rate,
the dropout rate and the width of each hidden layer are per-member values of one compiled step
(:mod:`kerasnet.search.stack`), so a grid of them trains as one stacked fit, not as one fit per
combination as ``GridSearchCV`` or KerasTuner trains it. Networks of different depths are
different stacks, each compiled once.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import InputError
from ..path import defaults, measures
from ..path.arguments import check_cv, check_seed
from ..path.folds import normalized_weights, refit_epochs_for, splits
from ..path.grid import cv_summary
from ..path.inputs import check_xy, encode_target, model_inputs
from ..path.members import MemberSpec, Training
from ..path.pipeline import statistics
from ..path.plan import Plan
from ..path.progress import Progress, measure_readout
from ..path.rows import Rows
from ..path.stages import train
from ..tasks import LOSS
from .families import MLPFamily
from .result import SearchResult
from .space import configurations, strengths_for

__all__ = ["search"]

#: The tasks a search takes (its members' measures are the path's; Poisson's offset and Cox's
#: grouped deviance are fit_path's alone).
TASKS = ("binary", "multiclass", "regression")


def search(X, y, space=None, *, hypermodel=None, cv=defaults.CV, n_iter=None, task=None, measure="deviance",
           n_lambdas=8, lambda_min_ratio=defaults.LAMBDA_MIN_RATIO, epochs=None, batch_size=None,
           early_stopping=True, patience=None, stop_dominated=True, standardize=True, seed=None, verbose=1,
           nested=None, sample_weight=None, groups=None):
    """Cross-validate a space of network settings, every configuration in the same stacked fit.

    Every point of the search (a configuration of ``space`` at one strength) trains on each CV
    split's training rows and is scored on its test rows by ``measure``, exactly as a strength
    of :func:`kerasnet.fit_path` is: Adam, the proximal L1 step (exact zeros), inputs (and a
    regression target) standardized with the split's training rows, cross-fit early stopping.
    All points of one depth train at once (:mod:`kerasnet.search.stack`).

    Which rows each choice sees:

    - *Epochs*: point ``p``'s member on fold ``f`` keeps the epoch where the mean validation
      curve of ``p``'s *other* folds was best (cross-fit, :mod:`kerasnet.path.stopping`); a point
      whose curves cannot come within one standard error of the best point's of the same stack by
      the end of the budget stops early (dominated, successive-halving style), decided without
      fold ``f``'s rows. So every fold's score is out of sample.
    - *The configuration*: ``best_`` has the best CV mean over all points; ``simplest_`` is the
      simplest point whose CV mean is within one standard error of the best
      (:func:`kerasnet.search.space.simplicity`: fewest hidden units, then most dropout, then the
      strongest penalty). Both read only out-of-fold scores, but the best of many is optimistic:
      ``optimism_`` estimates by how much (Tibshirani and Tibshirani, 2009, from the folds), and
      ``nested`` gives an honest estimate of the whole procedure.
    - *The refits*: the best and the simplest point, each on all rows for the optimizer steps of
      its CV members' best epoch (as :func:`kerasnet.fit_path` refits).

    Parameters
    ----------
    X : array-like [n, d]
    y : array-like [n]
    space : dict or None
        Setting name to values (``"lambda"``, ``"l1_ratio"``, ``"learning_rate"``, ``"dropout"``,
        ``"hidden"``; :mod:`kerasnet.search.space`). A setting left out is fit_path's default;
        without ``"lambda"`` every configuration gets ``n_lambdas`` strengths
        (:func:`kerasnet.search.space.strengths_for`).
    hypermodel : callable or KerasTuner HyperModel, or None
        Instead of ``space``: a KerasTuner ``build(hp)`` function (or an object with that
        ``build``) and the grid of every hyperparameter it declares
        (:mod:`kerasnet.search.hypermodel`): each combination's model is built once, seeded; its
        learning rate, uniform kernel penalty and dropout rates become per-member values, other
        differences separate stacks. ``X`` is used as given (no standardization), the penalty is
        Keras's own (no proximal step), the refit is your model.
    cv : int, scikit-learn splitter or iterable of (train, test) pairs, default 5
        As :func:`kerasnet.fit_path`'s.
    n_iter : int or None
        None: every combination. An int: that many configurations drawn (lists or scipy
        distributions, scikit-learn's ``ParameterSampler``).
    task : {"binary", "multiclass", "regression"} or None
    measure : str, default "deviance"
        As :func:`kerasnet.fit_path`'s.
    n_lambdas : int, default 8
    lambda_min_ratio : float, default 1e-3
    stop_dominated : bool, default True
        With ``epochs=None``: stop the points of a stack whose validation curves cannot come within
        one standard error of the stack's best by the end of the budget (above; the path's rule for
        hopeless strengths, :mod:`kerasnet.path.stopping`). False trains every point until its own
        curves stall.
    epochs, batch_size, early_stopping, patience, standardize, seed, verbose, sample_weight, groups
        As :func:`kerasnet.fit_path`'s (one seed is drawn when None: the same folds and initial
        weights for every point, and for the nested search).
    nested : int or None
        Outer folds around the whole search (each one search on the outer training rows, its
        refit scored on the outer test rows): ``nested_`` holds that estimate of what the
        chosen network scores on new rows. ``nested`` times the work.

    Returns
    -------
    SearchResult
    """
    seed = check_seed(seed)
    if seed is None:  # one draw: every point and every outer fold on the same folds and starts
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    check_cv(cv, None)
    if nested and groups is not None:
        raise InputError("nested= does not take groups= (its outer folds would split a group); drop one.")
    if hypermodel is not None and space is not None:
        raise InputError("give the grid either as space= or as the build function's hyperparameters "
                         "(hypermodel=), not both.")
    if hypermodel is None:
        configs = configurations(space, n_iter, seed)
        X, y, names = check_xy(X, y)
    else:
        X, y = model_inputs(X, y)
        names = []
    task, y_enc, classes, n_outputs = encode_target(y, task)
    if task not in TASKS:
        raise InputError(f"search takes a {', '.join(TASKS)} task; for task={task!r} use kerasnet.fit_path.")
    measure = measures.check_measure(measure, task)
    if hypermodel is not None:
        from .hypermodel import hyper_family

        family = hyper_family(hypermodel, task, seed, n_iter)
        points = configs = family.points
    rates = [c.learning_rate for c in configs]
    plan = _plan(X, y_enc, task, measure, cv, seed, rates, epochs, batch_size, early_stopping, patience,
                 bool(standardize) and hypermodel is None, sample_weight, stop_dominated, groups)
    rows = Rows.prepare(X, y_enc, plan.weight, None)
    if hypermodel is None:
        family = MLPFamily(X.shape[1], n_outputs, task, seed, plan.stats)
        points = [c for config in configs for c in (
            [config] if config.lam is not None else
            [config.with_lam(lam) for lam in strengths_for(plan.stats.gradient, config.l1_ratio, n_lambdas,
                                                           lambda_min_ratio)])]
    progress = Progress(verbose)
    try:
        scored = _cross_validate(plan, rows, points, family, progress)
        result = SearchResult(points, scored, plan, classes, names, len(configs), family)
        result.refits_ = _refit(plan, rows, points, scored, [result.best_index_, result.simplest_index_],
                                family, progress)
    except BaseException:
        progress.close(finished=False)
        raise
    progress.close()
    if nested:
        from .nested import nested_estimate

        settings = dict(space=space, hypermodel=hypermodel, cv=cv, n_iter=n_iter, task=task, measure=measure,
                        n_lambdas=n_lambdas, lambda_min_ratio=lambda_min_ratio, epochs=epochs,
                        batch_size=batch_size, early_stopping=early_stopping, patience=patience,
                        stop_dominated=stop_dominated, standardize=standardize, seed=seed)
        result.nested_ = nested_estimate(search, X, y_enc, plan.weight, task, measure, nested, seed, verbose,
                                         settings)
    return result


def _plan(X, y, task, measure, cv, seed, rates, epochs, batch_size, early_stopping, patience, standardize,
          sample_weight, stop_dominated=True, groups=None):
    """The search's :class:`~kerasnet.path.plan.Plan`: fit_path's rules for batches, epochs and
    stopping (the warm-up of the smallest learning rate, whose networks move slowest)."""
    weight = normalized_weights(sample_weight, len(y))
    train_rows, test_rows = splits(cv, y, task, seed, groups=groups)
    fold_rows = train_rows.sum(axis=1).mean()
    batch_size = defaults.batch_size_for(len(y)) if batch_size is None else int(batch_size)
    patience = defaults.patience_for(fold_rows, batch_size) if patience is None else int(patience)
    budget = defaults.epoch_budget(epochs, early_stopping, fold_rows, batch_size)
    slowest = min(rates)
    training = Training(LOSS[task], budget, batch_size, "adam", None, proximal=True, seed=seed)
    stopping = defaults.stopping_rule(epochs, fold_rows, batch_size, slowest, patience) if early_stopping \
        else None
    if stopping is not None and not stop_dominated:
        stopping = dataclasses.replace(stopping, dominance=False)
    # The MLP's standardization and default strengths; a build function's model takes X as given.
    stats = statistics(X, y, task, train_rows, weight, standardize, None, None) if standardize else None
    return Plan(task, measure, y, weight, train_rows, test_rows, None, None, stats, bool(standardize),
                training, stopping)


def _members(plan, stack, points, index, F):
    """The CV members of ``points[index]`` on ``stack``: member ``p * F + f`` is point ``p`` on fold ``f``."""
    chosen = [points[i] for i in index]
    split = np.tile(np.arange(F), len(chosen))
    point = np.repeat(np.arange(len(chosen)), F)
    lam = np.array([c.lam for c in chosen])[point]
    ratio = np.array([c.l1_ratio for c in chosen])[point]
    return MemberSpec.of(lam * ratio, lam * (1 - ratio) / 2, train=(plan.row_sets, split),
                         val=(plan.test_sets, split), streams=split, stop_groups=point,
                         scaling=plan.scaling(split), start=([stack.start(c) for c in chosen], point),
                         learning_rate=np.array([c.learning_rate for c in chosen])[point])


def _training(plan, family, stack, **changes):
    """The plan's training on ``stack``: the family's L1 step, the stack's penalized layers and optimizer."""
    return plan.training.replace(proximal=family.proximal, penalized=getattr(stack, "penalized", None),
                                 optimizer=getattr(stack, "optimizer", plan.training.optimizer), **changes)


def _cross_validate(plan, rows, points, family, progress):
    """Every point on every fold, one stacked fit per group of the family; ``{"values": {measure:
    [P, F]}, "excluded": [P, F], "epochs": [P] (the all-folds curve's best epoch), "stacks" and
    "group_of" (each point's)}``."""
    P, F = len(points), plan.F
    names = [m for m in measures.MEASURES if plan.task in measures.MEASURES[m][1]]
    values = {m: np.full((P, F), np.nan) for m in names}
    excluded, chosen, stacks, group_of = np.zeros((P, F), bool), np.zeros(P, int), {}, {}
    trained = np.zeros((P, F), int)
    for key, index in family.groups(points).items():
        stacks[key] = stack = family.stack([points[i] for i in index])
        group_of.update({i: key for i in index})
        members = _members(plan, stack, points, index, F)
        split = np.tile(np.arange(F), len(index))
        progress.phase(f"CV, {family.label(key)}", plan.training.epochs, (len(index), F),
                       measure_readout(plan.task, plan.measure, plan.y, plan.weight, plan.test_sets, split,
                                       members.scaling))
        _, fit = train(plan, stack.network, rows, members, _training(plan, family, stack, outputs=True),
                       plan.stopping, progress)
        got, _ = measures.cross_validated(fit.val_outputs, np.ones(members.K, bool), plan.y, plan.task,
                                          plan.weight, len(index), F, False)
        for m in names:
            values[m][index] = got[m]
        excluded[index] = fit.diverged.reshape(len(index), F)
        chosen[index] = fit.chosen_epoch.reshape(len(index), F)[:, 0]
        trained[index] = fit.epochs_trained.reshape(len(index), F)
    return {"values": values, "excluded": excluded, "epochs": chosen, "trained": trained, "stacks": stacks,
            "group_of": group_of,
            "summary": cv_summary(values[plan.measure], excluded, plan.fold_weights)}


def _refit(plan, rows, points, scored, which, family, progress):
    """``{point index: (weights, epochs, diverged)}``: each point of ``which`` on all rows for the
    optimizer steps of its CV members' best epoch, on its CV stack (the same start), one stacked
    fit per group; ``weights`` as the family assembles them (:meth:`Stack.narrow`)."""
    wanted = sorted(set(int(i) for i in which))
    epochs = refit_epochs_for(scored["epochs"][wanted], plan.train_rows, plan.training.batch_size, plan.n)
    refits = {}
    groups = {}
    for a, i in enumerate(wanted):
        groups.setdefault(scored["group_of"][i], []).append(a)
    for key, at in groups.items():
        index = [wanted[a] for a in at]
        chosen, stack = [points[i] for i in index], scored["stacks"][key]
        everything = np.full(len(index), plan.everything)
        lam, ratio = np.array([c.lam for c in chosen]), np.array([c.l1_ratio for c in chosen])
        members = MemberSpec.of(lam * ratio, lam * (1 - ratio) / 2, train=(plan.row_sets, everything),
                                max_epochs=epochs[at], scaling=plan.scaling(everything),
                                start=([stack.start(c) for c in chosen], np.arange(len(index))),
                                learning_rate=[c.learning_rate for c in chosen])
        progress.phase("Refit", int(epochs[at].max()), (len(index), 1))
        weights, fit = train(plan, stack.network, rows, members,
                             _training(plan, family, stack, epochs=int(epochs[at].max())), None, progress)
        for a, i in enumerate(index):
            refits[i] = (stack.narrow(weights[a], points[i]), int(epochs[at][a]), bool(fit.diverged[a]))
    return refits
