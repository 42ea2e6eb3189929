"""The deviance each refit explains on its own rows: glmnet's ``dev.ratio`` (``%Dev``)."""

from __future__ import annotations

from ..survival import cox_deviance_ratio
from ..tasks import LOSS
from . import grid
from .inference import member_losses, member_outputs

__all__ = ["deviance_explained"]


def deviance_explained(network, rows, weights, task, scaling=None):
    """``dev.ratio`` of each of the K members ``weights`` on all prepared ``rows`` (one inference pass).

    Keras's mean loss gives it for every task but Cox (:func:`grid.deviance_ratio`); Cox's
    risk sets span all rows, so its deviance comes from the members' outputs
    (:func:`kerasnet.survival.cox_deviance_ratio`, glmnet's saturated likelihood).
    """
    if task == "cox":
        etas = member_outputs(network, rows, weights, LOSS[task], scaling)
        return cox_deviance_ratio(rows.y, etas.reshape(len(weights), -1), rows.weight)
    loss = member_losses(network, rows, weights, LOSS[task], scaling)
    y_std = (None, None) if scaling is None or scaling[2] is None else (scaling[2][0], scaling[3][0])
    return grid.deviance_ratio(loss, rows.y, task, rows.weight, *y_std, exposure=rows.exposure)
