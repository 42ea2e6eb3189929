"""The defaults of the regularization path, in one place.

:func:`kerasnet.fit_path` reads them in its signature and the cross-validated estimators
(:class:`kerasnet.sklearn.ElasticNetMLPClassifierCV` and its siblings) in their
``__init__``, so a path fitted through either surface with no arguments is the same fit
(the estimators' names follow scikit-learn: ``hidden_layer_sizes`` is ``hidden``,
``max_iter`` is ``epochs``, ``n_iter_no_change`` is ``patience``, ``learning_rate_init`` is
``learning_rate``). The one-strength estimators take ``HIDDEN`` and ``BATCH_SIZE`` too.

The epoch budget
----------------
``epochs=None`` (the default, :func:`epoch_budget`) lets cross-fit early stopping end
training, not a cap: every strength trains until each of its leave-one-fold-out
validation curves has gone ``patience`` epochs without falling by more than
``MIN_DELTA`` (relative) (:mod:`kerasnet.path.stopping`), up to ``MAX_EPOCHS``.
The tolerance matters: the validation objective includes the penalty, and a penalized
network's weights keep shrinking a little every epoch, so without it a curve "improves"
by a hair for hundreds of epochs (and the kept weights, at the curve's lowest point,
would barely differ). The engine stops computing a
strength once its curves have stalled and ends the fit when every strength has, so
strengths that stall early cost what they need, and only those still improving train on.
Without early stopping there is nothing to end training, and ``None`` means ``EPOCHS``.
An explicit integer ``epochs=`` is the cap it always was, with Keras's rule (any decrease
is an improvement).
"""

from __future__ import annotations

__all__ = ["BATCH_SIZE", "CV", "EPOCHS", "HIDDEN", "L1_RATIO", "LAMBDA_MIN_RATIO", "LEARNING_RATE",
           "MAX_EPOCHS", "MIN_DELTA", "N_LAMBDAS", "PATIENCE", "epoch_budget", "stall_tolerance"]

HIDDEN = (64, 64)
"""Units of each hidden layer."""
BATCH_SIZE = 32
"""Rows per minibatch: on a few hundred rows, tens of optimizer steps per epoch."""
EPOCHS = 100
"""The budget without early stopping (and the base of ``MAX_EPOCHS``)."""
MAX_EPOCHS = 4 * EPOCHS
"""The hard cap of ``epochs=None``: early stopping ends training before it on the bundled data."""
PATIENCE = 10
"""Epochs without improvement of a leave-one-fold-out curve before it stops."""
MIN_DELTA = 1e-3
"""With ``epochs=None``: the relative fall of a curve that counts as improving."""
LEARNING_RATE = 1e-3
"""Adam's learning rate."""
N_LAMBDAS = 32
L1_RATIO = 0.5
LAMBDA_MIN_RATIO = 1e-3
CV = 5


def epoch_budget(epochs, early_stopping=True):
    """The number of epochs a path trains at most: ``epochs``, or for None the default rule.

    Parameters
    ----------
    epochs : int or None
        An int is returned as given (checked by the caller). None: ``MAX_EPOCHS`` with early
        stopping (training ends when every strength's cross-fit curves have stalled),
        ``EPOCHS`` without.
    early_stopping : bool, default True

    Returns
    -------
    int or the value given
    """
    if epochs is None:
        return MAX_EPOCHS if early_stopping else EPOCHS
    return epochs


def stall_tolerance(epochs):
    """The relative ``min_delta`` of early stopping: ``MIN_DELTA`` for ``epochs=None``, else 0."""
    return MIN_DELTA if epochs is None else 0.0
