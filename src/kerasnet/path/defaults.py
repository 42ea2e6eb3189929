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

Sizes that follow the table
---------------------------
``batch_size=None``, ``patience=None`` (the defaults) and ``epochs=None`` are rules of the row
count, so a table of 10^5 or 10^6 rows is not trained as a table of 500 (:func:`batch_size_for`,
:func:`patience_for`, :func:`epoch_budget`). While a fold's epoch is at most 200 steps (about
8,000 rows in 5 folds) nothing changes: batches of 32, a patience of ``PATIENCE`` epochs, at most
``MAX_EPOCHS`` epochs. On more rows the patience is ``PATIENCE_STEPS`` optimizer steps in whole
epochs (at least ``MIN_PATIENCE``) and the cap ``MAX_STEPS`` steps in whole epochs (at least
``EPOCHS``); from 131,072 rows the batch doubles with the rows so that an epoch of all rows
stays 2,048 to 4,095 steps. At 10^4 rows (5 folds): batch 32, patience 8, at most 400 epochs; at
10^5: 32, 5 and 100; at 10^6: 256, 5 and 100. Which rows: the counts alone (no row's values), the
same for every fold and the refit.

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
           "MAX_BATCH_SIZE", "MAX_EPOCHS", "MAX_STEPS", "MIN_DELTA", "MIN_PATIENCE", "N_LAMBDAS", "PATIENCE",
           "PATIENCE_STEPS", "STEPS_PER_EPOCH", "WARMUP_STEPS", "batch_size_for", "epoch_budget",
           "patience_for", "stall_tolerance", "steps_per_epoch", "stopping_rule", "warmup_epochs"]

HIDDEN = (64, 64)
"""Units of each hidden layer."""
BATCH_SIZE = 32
"""Rows per minibatch on tables of up to ``32 * 2 * STEPS_PER_EPOCH`` rows (:func:`batch_size_for`)."""
STEPS_PER_EPOCH = 2048
"""With ``batch_size=None``: the fewest optimizer steps of an epoch on all rows once the batch grows."""
MAX_BATCH_SIZE = 4096
"""With ``batch_size=None``: the largest batch the rule chooses."""
EPOCHS = 100
"""The budget without early stopping (and the base of ``MAX_EPOCHS``)."""
MAX_EPOCHS = 4 * EPOCHS
"""The hard cap of ``epochs=None``: early stopping ends training before it on the bundled data."""
PATIENCE = 10
"""Epochs without improvement of a leave-one-fold-out curve before it stops (the most, for None)."""
PATIENCE_STEPS = 2000
"""With ``patience=None``: the optimizer steps a curve may go without improving (:func:`patience_for`)."""
MIN_PATIENCE = 5
"""With ``patience=None``: the fewest epochs a curve may go without improving."""
MAX_STEPS = 100_000
"""With ``epochs=None`` and early stopping: the optimizer steps a member trains at most, in whole
epochs of at least ``EPOCHS`` and at most ``MAX_EPOCHS`` (:func:`epoch_budget`)."""
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


def steps_per_epoch(rows, batch_size):
    """Optimizer steps of an epoch on ``rows`` rows (the last batch may be partial; at least 1)."""
    return max(1, -(-int(round(rows)) // int(batch_size)))


def batch_size_for(rows):
    """The batch size of ``batch_size=None`` for a table of ``rows`` rows.

    ``BATCH_SIZE`` (32) up to ``2 * 32 * STEPS_PER_EPOCH`` rows (131,071); above, the power of two
    that keeps an epoch of all rows at ``STEPS_PER_EPOCH`` to twice that steps (2,048 to 4,095), at
    most ``MAX_BATCH_SIZE``. Why 32 so far: the stacked members already make each step a large
    computation, and on a CPU a larger batch bought no time (75,000 training rows: batch 128 needed
    42 epochs where 32 needed 17, for the same CV curve within a standard error;
    ``benchmarks/RESULTS.md``). Why it grows then: an epoch of 31,250 steps (32 on 10^6 rows) is
    more than early stopping needs between two looks at its curves. Which rows: the count alone,
    so every fold and the refit share one batch size.

    Examples
    --------
    >>> [batch_size_for(n) for n in (569, 100_000, 131_071, 131_072, 1_000_000, 10**8)]
    [32, 32, 32, 64, 256, 4096]
    """
    quotient = max(int(rows) // STEPS_PER_EPOCH, 1)
    size = 1 << (quotient.bit_length() - 1)  # 2 ** floor(log2(rows / STEPS_PER_EPOCH)), in integers
    return int(min(max(size, BATCH_SIZE), MAX_BATCH_SIZE))


def patience_for(fold_rows, batch_size):
    """The patience of ``patience=None``: epochs of ``PATIENCE_STEPS`` optimizer steps on a fold's
    training rows, at least ``MIN_PATIENCE`` and at most ``PATIENCE``.

    A curve on a few hundred rows is noisy from epoch to epoch and an epoch is a few dozen steps,
    so it gets ``PATIENCE`` (10) epochs; on 10^5 rows an epoch is hundreds of steps and its
    validation curve is measured on 20,000 rows, so fewer epochs without a 0.1% fall say as much.
    Why not fewer than 5: on 75,000 training rows (``benchmarks/RESULTS.md``) a patience of 5
    against 10 kept ``lambda_1se`` (regression) or ``lambda_min`` (binary) and took 0.62-0.79 of the
    time; 3 took 0.47-0.64 but moved both strengths of the regression table and worsened its
    held-out MSE by 3%.
    Which rows: the count alone.

    Examples
    --------
    >>> [patience_for(r, batch_size_for(r / 0.8)) for r in (455, 8_000, 80_000, 800_000)]
    [10, 8, 5, 5]
    """
    epochs = -(-PATIENCE_STEPS // steps_per_epoch(fold_rows, batch_size))
    return int(min(max(epochs, MIN_PATIENCE), PATIENCE))


def epoch_budget(epochs, early_stopping=True, fold_rows=None, batch_size=BATCH_SIZE):
    """The number of epochs a path trains at most: ``epochs``, or for None the default rule.

    Parameters
    ----------
    epochs : int or None
        An int is returned as given (checked by the caller). None with early stopping: the
        epochs of ``MAX_STEPS`` optimizer steps on ``fold_rows`` rows, at least ``EPOCHS`` and
        at most ``MAX_EPOCHS`` (training ends when every strength's cross-fit curves have
        stalled, usually long before); ``EPOCHS`` without early stopping.
    early_stopping : bool, default True
    fold_rows : float or None
        Training rows of a CV member (the folds' mean); None: ``MAX_EPOCHS``.
    batch_size : int, default BATCH_SIZE

    Returns
    -------
    int or the value given

    Examples
    --------
    >>> [epoch_budget(None, True, r, batch_size_for(r / 0.8)) for r in (455, 80_000, 800_000)]
    [400, 100, 100]
    """
    if epochs is not None:
        return epochs
    if not early_stopping:
        return EPOCHS
    if fold_rows is None:
        return MAX_EPOCHS
    budget = -(-MAX_STEPS // steps_per_epoch(fold_rows, batch_size))
    return int(min(max(budget, EPOCHS), MAX_EPOCHS))


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
    steps = steps_per_epoch(fold_rows, batch_size)
    rate = 1e-3 if learning_rate is None else float(learning_rate)
    return max(1, int(-(-WARMUP_STEPS * 1e-3 / rate // steps)))


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
