"""cv.glmnet's grouped Cox deviance for a path's CV members, from their outputs on all rows."""

from __future__ import annotations

import numpy as np

from ..survival import grouped_cox_deviance
from ..tasks import LOSS
from .inference import member_outputs

__all__ = ["check_fold_events", "fold_events", "grouped_deviance"]


def grouped_deviance(network, rows, weights, scaling, test_rows, grid):
    """``[L, F]``: each CV member's grouped deviance (:func:`kerasnet.survival.grouped_cox_deviance`).

    ``weights`` are the members' weights in the order of ``grid``
    (:class:`kerasnet.path.plan.MemberGrid`), ``scaling`` their standardizations; one
    inference pass over the prepared ``rows`` gives every member's ``eta`` on all rows.
    """
    etas = member_outputs(network, rows, weights, LOSS["cox"], scaling).reshape(len(weights), -1)
    values = np.empty((grid.L, grid.n_splits))
    for f in range(grid.n_splits):
        members = [grid.member(i, f) for i in range(grid.L)]
        values[:, f] = grouped_cox_deviance(rows.y, etas[members], rows.weight, test_rows[f])
    return values


def fold_events(task, y_enc, weight, test_rows):
    """``{"deviance": each fold's weighted count of events}`` (cv.glmnet's fold weights for the
    grouped deviance) for Cox; None for the other tasks (their folds weigh by their rows)."""
    if task != "cox":
        return None
    events = np.asarray(weight, float) * np.asarray(y_enc, float)[:, 1]
    return {"deviance": (np.asarray(test_rows, float) * events).sum(axis=1)}


def check_fold_events(task, y_enc, weight, test_rows) -> None:
    """Refuse Cox folds without a (weighted) event before any training: the grouped deviance
    divides by each fold's events. Raises :class:`kerasnet.errors.InputError` naming the fix."""
    events = fold_events(task, y_enc, weight, test_rows)
    if events is None or (events["deviance"] > 0).all():
        return
    from ..errors import InputError

    f = int(np.flatnonzero(events["deviance"] <= 0)[0])
    raise InputError(f"CV fold {f + 1} of {len(test_rows)} has no events (task='cox' scores each fold by "
                     "its events); use fewer folds, or a foldid= / cv= that puts events in every fold.")
