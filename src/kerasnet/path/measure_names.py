"""The names of the cross-validation measures and the tasks each applies to, without numpy.

The command line checks ``--measure`` before it imports anything heavy, so the table lives here
and :mod:`kerasnet.path.measures` (which computes the measures) re-exports it.
"""

from __future__ import annotations

__all__ = ["MEASURES", "PROB_CLIP", "check_measure", "greater_is_better", "label"]

#: Probabilities are clipped to ``[PROB_CLIP, 1 - PROB_CLIP]`` in the class deviance (glmnet's
#: ``prob_min``).
PROB_CLIP = 1e-5

#: measure -> (greater is better, tasks, label for tables and plots)
MEASURES = {
    "deviance": (False, ("binary", "multiclass", "regression", "poisson", "cox"), "deviance"),
    "cindex": (True, ("cox",), "Harrell's C"),
    "class": (False, ("binary", "multiclass"), "misclassification error"),
    "auc": (True, ("binary",), "AUC"),
    "mse": (False, ("binary", "multiclass", "regression", "poisson"), "mean squared error"),
    "mae": (False, ("binary", "multiclass", "regression", "poisson"), "mean absolute error"),
    "r2": (True, ("regression",), "R^2"),
}


def check_measure(measure, task) -> str:
    """``measure`` if it applies to ``task``; a ValueError naming the choices otherwise."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}; received measure={measure!r}.")
    tasks = MEASURES[measure][1]
    if task not in tasks:
        usable = [m for m, (_, t, _) in MEASURES.items() if task in t]
        raise ValueError(
            f"measure={measure!r} does not apply to task {task!r}; use one of {', '.join(usable)}."
        )
    return measure


def greater_is_better(measure) -> bool:
    """True for measures where larger is better (``auc``, ``r2``)."""
    return MEASURES[measure][0]


def label(measure) -> str:
    """The measure's name in words, for tables and plots."""
    return MEASURES[measure][2]
