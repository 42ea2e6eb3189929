"""cv.glmnet's grouped Cox deviance for a path's CV members, from their outputs on all rows."""

from __future__ import annotations

import numpy as np

from ..survival import grouped_cox_deviance
from ..tasks import LOSS
from .engine import member_outputs

__all__ = ["fold_events", "grouped_deviance"]


def grouped_deviance(network, X, y_enc, weights, scaling, test_rows, weight, L, F):
    """``[L, F]``: each CV member's grouped deviance (:func:`kerasnet.survival.grouped_cox_deviance`).

    ``weights`` are the members' weights, strength-major (member ``i * per + f`` is strength
    ``i``'s member for split ``f``, ``per >= F`` when the refits share the fit), ``scaling``
    their standardizations; one inference pass gives every member's ``eta`` on all rows.
    """
    etas = member_outputs(network, X, y_enc, weights, loss=LOSS["cox"], scaling=scaling)
    etas = etas.reshape(len(weights), -1)
    per = len(weights) // L
    values = np.empty((L, F))
    for f in range(F):
        values[:, f] = grouped_cox_deviance(y_enc, etas[np.arange(L) * per + f], weight, test_rows[f])
    return values


def fold_events(task, y_enc, weight, test_rows):
    """``{"deviance": each fold's weighted count of events}`` (cv.glmnet's fold weights for the
    grouped deviance) for Cox; None for the other tasks (their folds weigh by their rows)."""
    if task != "cox":
        return None
    events = np.asarray(weight, float) * np.asarray(y_enc, float)[:, 1]
    return {"deviance": (np.asarray(test_rows, float) * events).sum(axis=1)}
