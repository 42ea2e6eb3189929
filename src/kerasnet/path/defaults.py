"""The defaults of the regularization path, in one place.

:func:`kerasnet.fit_path` reads them in its signature and the cross-validated estimators
(:class:`kerasnet.sklearn.ElasticNetMLPClassifierCV` and its siblings) in their
``__init__``, so a path fitted through either surface with no arguments is the same fit
(the estimators' names follow scikit-learn: ``hidden_layer_sizes`` is ``hidden``,
``max_iter`` is ``epochs``, ``n_iter_no_change`` is ``patience``, ``learning_rate_init`` is
``learning_rate``). The one-strength estimators take ``HIDDEN`` and ``BATCH_SIZE`` too.

The epoch budget
----------------
``epochs=None`` (the default, :func:`epoch_budget`, :func:`stopping_rule`) lets cross-fit
early stopping end training, not a cap: every strength trains until each of its
leave-one-fold-out curves of the validation **data loss** has gone ``patience`` epochs
without falling by more than ``MIN_DELTA`` (relative) (:mod:`kerasnet.path.stopping`), up to
``MAX_EPOCHS``; the curves are watched from epoch :func:`warmup_epochs` on. Which rows each
choice uses: member ``(lambda, f)``'s kept epoch and its stop come from the other folds'
validation rows only; the refit's length from the all-folds mean curve (every fold's
validation rows, none of the refit's own scoring); the warm-up from the row count, batch
size and learning rate alone.

Why the data loss and not the objective (data loss + penalty, Keras's ``val_loss``, which an
integer ``epochs`` still watches): the penalty part falls for hundreds of epochs after the
data loss has settled (Adam carries the Glorot-initialised weights of the unneeded units to
zero a rate-sized step at a time, and on a few hundred rows an epoch is only a few steps),
so the objective never stalled (wine: 14 of 32 strengths, lambda_min's and lambda_1se's among
them, at the 400 cap) and its lowest point came after the data loss's (digits: epoch 240
against 119 at one strength), which kept weights past the data-loss optimum. The CV measure
scores the data loss, so early stopping watches it.

Why the warm-up (``WARMUP_STEPS`` optimizer steps, the grid probe's count): in its first
steps a strongly penalized network still carries its random start, whose data loss is
*below* the emptied network's (wine's top strength: 0.97 at epoch 10, the null's 1.09), so
the data loss alone would keep the top of the grid at its start, not empty. After the warm-up
the penalty has had the steps the probe needed to empty the top. A fixed count, so no fold's
rows choose it; it costs the weakest strengths their earliest epochs.

Dominated strengths stop too (``StoppingRule.dominance``, :mod:`kerasnet.path.stopping`): a
strength whose cross-fit curve, falling on at its last ``patience`` epochs' rate until
``MAX_EPOCHS``, could still not come within one standard error of the leading strength's
stops there, so it can be neither ``lambda_min`` nor ``lambda_1se``. The strongly penalized
networks still creeping towards the null model were the ones that trained longest (breast
cancer: the second strength ran 323 epochs, to a CV deviance twice the minimum's). Which rows:
member ``(lambda, f)``'s decision reads the other folds' validation rows only.

The tolerance: a curve still creeping down by a hair (a relative 0.1% in ``patience``
epochs) counts as stalled. The engine stops computing a strength once its curves have
stalled and ends the fit when every strength has, so strengths that stall early cost what
they need, and only those still improving train on. Without early stopping there is nothing
to end training, and ``None`` means ``EPOCHS``. An explicit integer ``epochs=`` is the cap
it always was, with Keras's rule (the validation objective, any decrease an improvement,
from the first epoch).
"""

from __future__ import annotations

__all__ = ["BATCH_SIZE", "CV", "EPOCHS", "HIDDEN", "L1_RATIO", "LAMBDA_MIN_RATIO", "LEARNING_RATE",
           "MAX_EPOCHS", "MIN_DELTA", "N_LAMBDAS", "PATIENCE", "WARMUP_STEPS", "epoch_budget",
           "stall_tolerance", "stopping_rule", "warmup_epochs"]

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
WARMUP_STEPS = 300
"""With ``epochs=None``: optimizer steps (at rate 1e-3) before the curves are watched, the
grid probe's ``PROBE_STEPS`` (:mod:`kerasnet.path.grid_ends`): what it takes Adam to carry
Glorot-initialised weights to zero where the penalty wins."""
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


def warmup_epochs(fold_rows, batch_size, learning_rate):
    """Epochs of ``WARMUP_STEPS`` optimizer steps on a fold's training rows (at least 1).

    Parameters
    ----------
    fold_rows : float
        Training rows of a CV member (the folds' mean).
    batch_size : int
    learning_rate : float or None
        None counts as Adam's 1e-3; a larger rate needs proportionally fewer steps.

    Examples
    --------
    >>> warmup_epochs(107, 32, 1e-3), warmup_epochs(1078, 32, 1e-3), warmup_epochs(341, 32, 1e-2)
    (75, 9, 3)
    """
    steps_per_epoch = max(1, -(-int(round(fold_rows)) // int(batch_size)))
    rate = 1e-3 if learning_rate is None else float(learning_rate)
    return max(1, int(-(-WARMUP_STEPS * 1e-3 / rate // steps_per_epoch)))


def stopping_rule(epochs, fold_rows, batch_size, learning_rate, patience=PATIENCE):
    """What early stopping watches, for ``fit_path(epochs=...)`` as given (before :func:`epoch_budget`).

    ``epochs=None``: the validation data loss (the quantity the CV measure scores), with the
    relative tolerance ``MIN_DELTA``, from :func:`warmup_epochs` on. An int: Keras's rule, the
    validation objective (data loss + penalty), any decrease, from the first epoch.

    Returns
    -------
    kerasnet.path.stopping.StoppingRule
        For :func:`kerasnet.path.engine.fit_members`.
    """
    from .stopping import StoppingRule  # numpy: not on the command line's quick answers

    if epochs is None:
        return StoppingRule(patience, MIN_DELTA, "val_loss",
                            min(warmup_epochs(fold_rows, batch_size, learning_rate), MAX_EPOCHS),
                            dominance=True)
    return StoppingRule(patience)
