"""The path's two baselines on its own folds: the null model and the linear elastic net.

A network is worth its cost only if it beats, by more than the noise of the folds, what a
much simpler model reaches on the same rows. :func:`kerasnet.fit_path` therefore scores, on
exactly the path's CV splits (the same training and test rows, the same fold weights, the
same ``measure``):

- the **null model** (:func:`null_measures`): on each split, the intercept-only model fit on
  the split's training rows (weighted), scored on its test rows. It has a closed form, so
  nothing is trained: the training rows' weighted mean of the target (regression), class
  proportions (binary, multiclass), ``exp(offset) * sum(w y) / sum(w exp(offset))``
  (Poisson), ``eta = 0`` (Cox, scored by cv.glmnet's grouped deviance, folds weighted by
  their events). Every measure of the task is computed, summarized as glmnet's ``cvm`` /
  ``cvsd`` (:func:`kerasnet.path.grid.cv_summary`).
- the **linear elastic net** (``hidden=()``): a second, cheap ``fit_path`` with the same
  ``l1_ratio``, given the path's own ``(train, test)`` pairs as ``cv=`` and the same row
  weights, offset, penalty factors, measure, seed and training settings, on its own default
  grid; its best CV mean (at its ``lambda_min``) and standard error. Its learning rate is at
  least :data:`LINEAR_LEARNING_RATE`: the network's rate (Adam's 1e-3) leaves a linear model
  short of its optimum within the epoch budget (breast cancer, 100 epochs: CV deviance 0.212
  at 1e-3, 0.159 at 1e-2), which would flatter the network. It trains every strength for all
  ``epochs`` (``early_stopping=False``): a convex fit is run towards its optimum, as glmnet
  solves each strength to convergence, and the folds and the refits are one stacked program
  (one compilation, most of this small fit's time).

:func:`verdict` is the rule every sentence uses: the network *beats* a baseline when its CV
mean is better by more than the network's own CV standard error at the strength compared
(glmnet's ``cvsd``, the 1-SE rule's yardstick); it *loses* when the baseline is better by
more than that; otherwise the two are *within one SE*. :func:`baseline_sentences` words it.
This module imports numpy only: the reports and the command line word metrics.json with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Baselines", "baseline_sentences", "check_baselines", "null_measures", "path_baselines", "verdict"]

#: The linear baseline's smallest learning rate (its loss is convex: a larger step is safe).
LINEAR_LEARNING_RATE = 1e-2
#: How the linear model is named in every sentence.
LINEAR = "the linear elastic net (hidden=())"


def _g(value) -> str:
    """A number with 4 significant digits (the tables' precision)."""
    return "nan" if value is None or not math.isfinite(value) else f"{value:.4g}"


def verdict(mean, se, baseline, greater_is_better) -> str | None:
    """``"beats"``, ``"loses"`` or ``"within"``: the network's CV ``mean`` (standard error ``se``)
    against a baseline's CV mean, by more than one ``se`` in the measure's direction; None if a
    number is missing (NaN, None).

    Examples
    --------
    >>> verdict(0.30, 0.05, 0.40, greater_is_better=False)
    'beats'
    >>> verdict(0.30, 0.05, 0.33, greater_is_better=False)
    'within'
    >>> verdict(0.70, 0.02, 0.75, greater_is_better=True)
    'loses'
    """
    values = (mean, se, baseline)
    if any(v is None or not math.isfinite(float(v)) for v in values):
        return None
    gain = (float(mean) - float(baseline)) * (1.0 if greater_is_better else -1.0)
    if gain > float(se):
        return "beats"
    if -gain > float(se):
        return "loses"
    return "within"


@dataclass(frozen=True)
class Baselines:
    """The null and linear models' CV measure on a path's own folds (``Path.baselines_``).

    Attributes
    ----------
    measure : str
        The path's CV measure; ``greater_is_better`` its direction.
    null_mean, null_se : float
        The null model's CV mean and standard error of ``measure`` (glmnet's ``cvm``, ``cvsd``).
    null_measures : dict of {str: (float, float)}
        The null model's ``(mean, se)`` of every measure of the task.
    linear_mean, linear_se, linear_lambda : float or None
        The linear elastic net's best CV mean (at its ``lambda_min``), its standard error there,
        and that strength; None when it was not fit (``linear_skipped`` says why).
    linear_measures : dict of {str: (float, float)}
        The linear path's ``(mean, se)`` of every measure at its ``lambda_min``.
    linear_seconds : float or None
        Wall time of the linear fit.
    linear_skipped : str or None
        Why there is no linear baseline (the path is linear; the inputs are not a 2-D table).
    """

    measure: str
    greater_is_better: bool
    null_mean: float
    null_se: float
    null_measures: dict = field(default_factory=dict)
    linear_mean: float | None = None
    linear_se: float | None = None
    linear_lambda: float | None = None
    linear_measures: dict = field(default_factory=dict)
    linear_seconds: float | None = None
    linear_skipped: str | None = None

    def compare(self, mean, se) -> dict:
        """``{"null": verdict, "linear": verdict}`` of a network's CV ``mean`` and ``se``
        (:func:`verdict`)."""
        return {"null": verdict(mean, se, self.null_mean, self.greater_is_better),
                "linear": verdict(mean, se, self.linear_mean, self.greater_is_better)}

    def to_record(self) -> dict:
        """The numbers as plain JSON values (metrics.json's ``path.baselines``)."""
        def pairs(d):
            return {m: [float(a), float(b)] for m, (a, b) in d.items()}

        return {"measure": self.measure, "greater_is_better": bool(self.greater_is_better),
                "null_mean": float(self.null_mean), "null_se": float(self.null_se),
                "null_measures": pairs(self.null_measures),
                "linear_mean": None if self.linear_mean is None else float(self.linear_mean),
                "linear_se": None if self.linear_se is None else float(self.linear_se),
                "linear_lambda": None if self.linear_lambda is None else float(self.linear_lambda),
                "linear_measures": pairs(self.linear_measures), "linear_seconds": self.linear_seconds,
                "linear_skipped": self.linear_skipped}

    def line(self) -> str:
        """One line with both baselines' numbers."""
        text = f"null model {_g(self.null_mean)} +- {_g(self.null_se)}"
        if self.linear_mean is not None:
            text += (f"; {LINEAR} {_g(self.linear_mean)} +- {_g(self.linear_se)} at its lambda_min "
                     f"{_g(self.linear_lambda)}")
        elif self.linear_skipped:
            text += f"; no linear baseline ({self.linear_skipped})"
        return f"Baselines on the same folds (CV {self.measure}): {text}."


def baseline_sentences(record, choices) -> list[str]:
    """Sentences, from the numbers, on whether the network beats the null and the linear model.

    Parameters
    ----------
    record : dict
        :meth:`Baselines.to_record` (or metrics.json's ``path.baselines``).
    choices : list of (str, float, float)
        ``(name, CV mean, CV se)`` of each network strength presented (e.g. ``"lambda_1se"``).

    Returns
    -------
    list of str
        Plain text (the caller escapes it for HTML): one sentence per choice, then the
        recommendation, then the rule.
    """
    if not record:
        return []
    better = bool(record.get("greater_is_better"))
    null, linear = record.get("null_mean"), record.get("linear_mean")
    lines, outcomes = [], []
    words = {"beats": "beats", "within": "is within one SE of", "loses": "loses to",
             None: "cannot be set against"}
    for name, mean, se in choices:
        vs_null = verdict(mean, se, null, better)
        vs_linear = verdict(mean, se, linear, better)
        outcomes.append(vs_linear)
        text = f"At {name} the network ({_g(mean)} +- {_g(se)}) {words[vs_null]} the null model ({_g(null)})"
        if linear is not None:
            text += f" and {words[vs_linear]} {LINEAR} ({_g(linear)} +- {_g(record.get('linear_se'))})"
        lines.append(text + ".")
    names = [name for name, _, _ in choices]
    ahead = [n for n, o in zip(names, outcomes, strict=True) if o == "beats"]
    if linear is not None and outcomes and not ahead:
        lost = "scores better than the network" if "loses" in outcomes else "is within one SE of the network"
        lines.append(f"The linear elastic net (hidden=()) {lost}: prefer it (simpler, faster).")
    elif linear is not None and len(ahead) < len(names):
        behind = [n for n in names if n not in ahead]
        lines.append(f"The network beats the linear elastic net by more than one SE only at "
                     f"{', '.join(ahead)}; at {', '.join(behind)} the linear model does not lose: prefer "
                     f"{', '.join(ahead)} or the linear model (simpler, faster).")
    elif linear is not None and ahead:
        lines.append("The network beats the linear elastic net by more than one SE at every strength shown: "
                     "the hidden layers earn their cost.")
    elif linear is None and record.get("linear_skipped"):
        lines.append(f"No linear baseline: {record['linear_skipped']}.")
    if all(verdict(m, s, null, better) != "beats" for _, m, s in choices):
        lines.append("The network does not beat the null model by more than one SE: the features add little "
                     "that cross-validation can see.")
    lines.append("(Rule: a model beats another when its CV mean is better by more than the network's CV "
                 "standard error at that strength.)")
    return lines


def null_measures(task, y, weight, train_rows, test_rows, offset=None, fold_weights=None,
                  measure_weights=None) -> dict:
    """``{measure: (mean, se)}``: the null model's CV summary of every measure of ``task``.

    On each split ``f`` the intercept-only model is fit on ``train_rows[f]`` in closed form
    (weighted by ``weight``) and scored on ``test_rows[f]`` by
    :func:`kerasnet.path.measures.fold_value` (Cox: :func:`kerasnet.survival.grouped_cox_deviance`
    at ``eta = 0``); the folds are summarized by :func:`kerasnet.path.grid.cv_summary` with
    ``fold_weights`` (each fold's test weight; Cox's deviance: ``measure_weights``, its events).
    """
    from .grid import cv_summary
    from .measures import MEASURES, fold_value

    y, weight = np.asarray(y), np.asarray(weight, float)
    names = [m for m, (_, tasks, _) in MEASURES.items() if task in tasks]
    values = {m: np.empty(len(train_rows)) for m in names}
    for f, (train, test) in enumerate(zip(np.asarray(train_rows, bool), np.asarray(test_rows, bool),
                                          strict=True)):
        out = _null_outputs(task, y, weight, train, test, offset)
        for m in names:
            if task == "cox" and m == "deviance":
                from ..survival import grouped_cox_deviance

                values[m][f] = grouped_cox_deviance(y, np.zeros((1, len(y))), weight, test)[0]
            else:
                values[m][f] = fold_value(m, task, y[test], out, weight[test])
    weights = measure_weights or {}
    return {m: tuple(float(v[0]) for v in cv_summary(values[m][None], None, weights.get(m, fold_weights)))
            for m in names}


def _null_outputs(task, y, weight, train, test, offset):
    """The intercept-only model's outputs on the ``test`` rows, fit on the ``train`` rows."""
    w = weight[train]
    if task == "cox":
        return np.zeros(int(test.sum()))
    if task == "regression":
        values = y.reshape(len(y), -1).astype(float)
        mean = (w[:, None] * values[train]).sum(axis=0) / w.sum()
        return np.broadcast_to(mean, (int(test.sum()), values.shape[1]))
    if task == "poisson":
        exposure = np.ones(len(y)) if offset is None else np.exp(np.asarray(offset, float))
        rate = (w * y[train].astype(float)).sum() / (w * exposure[train]).sum()
        return (rate * exposure[test])[:, None]
    labels = y.astype(int).ravel()
    share = np.bincount(labels[train], weights=w, minlength=2 if task == "binary" else int(labels.max()) + 1)
    share = share / share.sum()
    if task == "binary":
        return np.full((int(test.sum()), 1), share[1])
    return np.broadcast_to(share, (int(test.sum()), len(share)))


def check_baselines(value) -> bool:
    """``fit_path``'s ``baselines``: a bool (numpy's too), else a ValueError naming it."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"baselines must be True or False; received baselines={value!r}.")


def linear_skip_reason(X, hidden, model) -> str | None:
    """Why no linear baseline is fit for this path, or None: the path is already linear, or a
    user's model takes inputs that are not one 2-D numeric table (images, several inputs)."""
    if model is None:
        return "the path is the linear model (hidden=())" if not tuple(hidden) else None
    if isinstance(X, (list, tuple)) or np.ndim(X) != 2:
        return "the model's inputs are not a 2-D table of features"
    if not np.issubdtype(np.asarray(X).dtype, np.number):
        return "the model's inputs are not numeric"
    return None


def path_baselines(path, task, y_enc, weight, train_rows, test_rows, offset, linear_fit) -> Baselines:
    """:class:`Baselines` of a fitted ``path``: the null model in closed form on its splits, and
    ``linear_fit`` (a callable: the linear path given the splits as ``(train, test)`` index pairs,
    or a str, the reason it is skipped)."""
    nulls = null_measures(task, y_enc, weight, train_rows, test_rows, offset, path.fold_weights_,
                          path.measure_weights_)
    mean, se = nulls[path.measure]
    return Baselines(measure=path.measure, greater_is_better=path.greater_is_better, null_mean=mean,
                     null_se=se, null_measures=nulls, **_linear(linear_fit, train_rows, test_rows))


def _linear(linear_fit, train_rows, test_rows) -> dict:
    """The linear path's numbers at its ``lambda_min``, or why there are none."""
    import time

    if isinstance(linear_fit, str):
        return {"linear_skipped": linear_fit}
    start = time.perf_counter()
    pairs = [(np.flatnonzero(tr), np.flatnonzero(te)) for tr, te in zip(train_rows, test_rows, strict=True)]
    try:
        fit = linear_fit(pairs)
    except (ValueError, ArithmeticError, RuntimeError) as err:  # the network's fit is kept; say why
        return {"linear_skipped": f"the linear fit failed: {err}"}
    i = fit.index_min_
    return {"linear_mean": float(fit.cv_mean_[i]), "linear_se": float(fit.cv_se_[i]),
            "linear_lambda": float(fit.lambdas_[i]), "linear_seconds": time.perf_counter() - start,
            "linear_measures": {m: tuple(float(v[i]) for v in fit.cv_summary(m)) for m in fit.cv_measures_}}
