"""A path's learning curves: the mean over folds of a strength's CV members, epoch by epoch."""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["cv_curves"]


def cv_curves(path, lam):
    """:meth:`kerasnet.Path.curves`: the curves of strength ``lam``'s CV members of ``path``."""
    import pandas as pd

    cv = path.history_.get("cv")
    if cv is None or cv.val_loss is None:
        names = ["epoch", "loss", "objective", "data_loss", "penalty", "val_data_loss", "val_loss",
                 "val_objective"]
        return pd.DataFrame(columns=names)
    i, F = path.index(lam), path.member_diverged_.shape[1]
    members = [path.members_.member(i, f) for f in range(F)]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # epochs after every fold stopped: NaN
        penalty = np.nanmean(cv.val_objective[:, members] - cv.val_loss[:, members], axis=1)
        loss = np.nanmean(cv.loss[:, members], axis=1)
        val_objective = np.nanmean(cv.val_objective[:, members], axis=1)
        # The engine's loss is the whole objective (its proximal part included): Keras's names
        # and PenaltyMonitor's, both.
        frame = pd.DataFrame({
            "epoch": np.arange(1, len(loss) + 1), "loss": loss, "objective": loss,
            "data_loss": loss - penalty, "penalty": penalty,
            "val_data_loss": np.nanmean(cv.val_loss[:, members], axis=1), "val_loss": val_objective,
            "val_objective": val_objective})
    return frame.dropna(subset=["loss"]).reset_index(drop=True)
