"""The deviance each refit explains on its own rows: glmnet's ``dev.ratio`` (``%Dev``)."""

from __future__ import annotations

import numpy as np

from ..survival import cox_deviance_ratio
from ..tasks import LOSS
from . import grid
from .engine import member_losses, member_outputs

__all__ = ["deviance_explained"]


def deviance_explained(network, X, y_enc, weights, task, sample_weight, scaling=None, offset=None):
    """``dev.ratio`` of each of the K members ``weights`` on all rows ``X`` (one inference pass).

    Keras's mean loss gives it for every task but Cox (:func:`grid.deviance_ratio`); Cox's
    risk sets span all rows, so its deviance comes from the members' outputs
    (:func:`kerasnet.survival.cox_deviance_ratio`, glmnet's saturated likelihood).
    """
    if task == "cox":
        etas = member_outputs(network, X, y_enc, weights, loss=LOSS[task], scaling=scaling)
        return cox_deviance_ratio(y_enc, etas.reshape(len(weights), -1), sample_weight)
    loss = member_losses(network, X, y_enc, weights, loss=LOSS[task], scaling=scaling,
                         sample_weight=sample_weight, offset=offset)
    y_std = (None, None) if scaling is None or scaling[2] is None else (scaling[2][0], scaling[3][0])
    return grid.deviance_ratio(loss, y_enc, task, sample_weight, *y_std,
                               exposure=None if offset is None else np.exp(offset))
