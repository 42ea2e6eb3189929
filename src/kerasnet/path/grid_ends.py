"""The ends of a network's default grid: the top where the network empties, the bottom extended.

glmnet's grid starts at ``lambda_max``, the smallest strength whose fit is the null model, so
its first row has Df 0 and its second does not. For a linear model that strength has a formula
(:func:`kerasnet.path.grid.lambda_max`); for a network it depends on the architecture, the
optimizer and the training, so :func:`probe_top` measures it: one stacked fit on all rows whose
members are a geometric ladder of strengths (one member each, the path's optimizer, proximal
step and batches, a few hundred optimizer steps: :func:`probe_epochs`), then a finer ladder
inside the bracket the first one found; if the first ladder's top is still alive (Adam's
ridge can keep a network above the analytic bound), ladders higher up first.
A member is *empty* when its network predicts a constant (:func:`empty_members`).

The probe trains a fixed number of steps on all rows; the path's members train the epochs their
cross-fit curves choose, so the fitted path can disagree with the probe at the top. After the
fit, :func:`kerasnet.fit_path` reads the top of the fitted path (:func:`null_top`): a strength
*gives the null model* when its refit is empty (no feature or no unit reaches the output: exact
zeros) or its CV measure is no better than the null model's on the same folds (within
:data:`NULL_TOLERANCE`, relative; worse counts too: a network the penalty keeps from learning is
no model). When several leading strengths give the null model, all but the last are dropped
(:meth:`kerasnet.path.stages.Fits.without_leading`), so the grid starts at the last of them and its
second strength learns;
the grid then has fewer strengths than ``n_lambdas``, as glmnet's can. When the first strength
does not give the null model (the top learns: the grid starts too low), strengths continuing
the log grid above it are fitted (:func:`raised_lambdas`, at most :data:`MAX_RAISES`, none above
:data:`kerasnet.path.arguments.MAX_STRENGTH`) until one does.

At ``l1_ratio`` 0 (ridge) nothing reaches an exact zero, in glmnet's linear fits as in a network:
glmnet's ridge grid starts at ``lambda_max`` computed as if ``alpha`` were 1e-3 (1000 times the
lasso's), where the coefficients are small but not zero. Here a ridge strength gives the null
model by its CV measure alone (equal to the null's within :data:`NULL_TOLERANCE`, or worse).

The bottom: when the best CV strength is the grid's last, :func:`kerasnet.fit_path` trains only
the strengths that continue the log grid below it (:func:`extended_lambdas`; members are
independent, the cross-fit early stopping is per strength, and a fold's members share their
batches, so a strength's members are what they would be in one fit of the longer grid) and
appends them (:meth:`kerasnet.path.stages.Fits.then`).
"""

from __future__ import annotations

import numpy as np

from .arguments import MAX_STRENGTH
from .inference import member_outputs
from .members import MemberSpec
from .stages import train

__all__ = ["PROBE_STEPS", "probe_epochs", "empty_members", "probe_top", "probe_runner", "probed_lambdas",
           "extended_lambdas", "extension_count", "null_top", "raised_lambdas", "refit_empty"]

#: Optimizer steps of each probe stage at learning rate 1e-3 (scaled by ``1e-3 / rate``): an
#: adaptive optimizer moves a weight by about the rate per step, so a few hundred steps take
#: Glorot-initialised weights (about 0.1-0.3) to zero where the penalty wins.
PROBE_STEPS = 300
#: Strengths of the coarse and of the fine probe stage.
COARSE, FINE = 10, 10
#: Ladders above the first when its top is alive, each ``RAISE`` times higher.
RAISES, RAISE = 2, 100.0
#: An output spread (std over rows, on the link scale) below this is a constant prediction,
#: and so is one below this share of the least penalized member's spread.
CONSTANT_SPREAD, RELATIVE_SPREAD = 1e-3, 1e-2


def probe_epochs(n, batch_size, learning_rate, epochs):
    """Epochs of a probe stage on ``n`` rows: :data:`PROBE_STEPS` steps at rate 1e-3 (scaled by
    ``1e-3 / learning_rate``; None counts as 1e-3), at least 1 epoch and at most the path's ``epochs``.

    Examples
    --------
    >>> probe_epochs(569, 32, 1e-3, 100), probe_epochs(120, 32, 1e-2, 100), probe_epochs(60, 32, 1e-4, 50)
    (17, 8, 50)
    """
    steps_per_epoch = -(-int(n) // int(batch_size))
    rate = 1e-3 if learning_rate is None else float(learning_rate)  # None: the optimizer's own (Adam's 1e-3)
    wanted = PROBE_STEPS * 1e-3 / rate / steps_per_epoch
    return int(min(epochs, max(1, np.ceil(wanted))))


def _link(outputs, task):
    """Outputs on the scale the network's last layer computes (logits, log rate, eta)."""
    out = np.asarray(outputs, "float64")
    if task == "binary":
        p = np.clip(out, 1e-7, 1 - 1e-7)
        return np.log(p) - np.log1p(-p)
    if task == "multiclass":
        logp = np.log(np.clip(out, 1e-7, 1.0))
        return logp - logp.mean(axis=-1, keepdims=True)
    if task == "poisson":
        return np.log(np.clip(out, 1e-12, None))
    return out


def empty_members(weights, outputs, task, y_scale=None, reference=None):
    """Which members' networks are empty: a constant prediction on every row.

    Member ``k`` is empty when its first kernel has no nonzero row (no feature reaches the
    network: Df 0), when any later kernel is all zero (no path from the features to the
    output), or when its outputs on the link scale (logits, centred log-probabilities, log
    rate, eta, the standardized regression output) vary by less than
    :data:`CONSTANT_SPREAD` (standard deviation over rows), or by less than
    :data:`RELATIVE_SPREAD` times ``reference`` (the spread of the least penalized member
    probed): the ridge part alone, or the L1 subgradient, shrinks weights towards zero without
    reaching it, and an adaptive optimizer leaves them jittering at about its step size.

    Parameters
    ----------
    weights : list of weight lists
        Each member's weights (kernels at even positions: an MLP's ``Dense`` layers).
    outputs : array [K, n, ...]
        Each member's outputs on the rows, in the target's units.
    task : str
    y_scale : array or None
        A regression target's standard deviation (the spread is in its units).
    """
    structural = structurally_empty(weights)
    spread = member_spread(outputs, task, y_scale)
    floor = CONSTANT_SPREAD if reference is None else max(CONSTANT_SPREAD, RELATIVE_SPREAD * reference)
    return structural | ~(spread >= floor)


def structurally_empty(weights):
    """Per member: no nonzero row in its first kernel (Df 0), or a later kernel all zero (no unit
    reaches the output). Only exact zeros count: the proximal step's."""
    return np.array([not (np.abs(w[0]).sum(axis=1) > 0).any() or any(not np.any(k) for k in w[2::2])
                     for w in weights], bool)


def member_spread(outputs, task, y_scale=None):
    """Each member's largest standard deviation over rows of its outputs on the link scale."""
    link = _link(outputs, task).reshape(np.shape(outputs)[0], np.shape(outputs)[1], -1)
    if task == "regression" and y_scale is not None:
        link = link / np.asarray(y_scale, "float64").reshape(1, 1, -1)
    return np.nanmax(link.std(axis=1), axis=-1)


def _stage(lambdas, l1_ratio, run):
    """Emptiness of each strength of ``lambdas`` (descending) from one stacked fit."""
    return np.asarray(run(lambdas * l1_ratio, lambdas * (1 - l1_ratio) / 2), bool)


def probe_top(upper, lower, l1_ratio, run, coarse=COARSE, fine=FINE):
    """The smallest probed strength whose network is empty, just above the largest that is not.

    Parameters
    ----------
    upper, lower : float
        The ladder's ends: ``upper`` above any strength the network could survive (the
        analytic bound of :func:`kerasnet.path.grid.default_lambdas`, doubled), ``lower`` the
        grid's bottom.
    l1_ratio : float
    run : callable ``(l1 [K], l2 [K]) -> bool [K]``
        Trains one member per strength (all rows) and says which are empty.
    coarse, fine : int
        Strengths of the first ladder (``upper`` .. ``lower``) and of the second, inside the
        bracket the first found (log-spaced, excluding its ends).

    When ``upper`` itself is alive (Adam's ridge can keep a network above the bound), up to
    :data:`RAISES` ladders :data:`RAISE` times higher are tried first.

    Returns
    -------
    (top, probed) : the strength, and the number of members trained.
    None as ``top`` when even ``lower`` is empty (no strength of this range learns anything).
    """
    ladder = np.geomspace(upper, lower, coarse)
    empty = _stage(ladder, l1_ratio, run)
    probed = coarse
    if empty.all():
        return None, probed
    for _ in range(RAISES):  # the network survives the bound (Adam's ridge can): look higher
        if empty[0]:
            break
        ladder = np.geomspace(ladder[0] * RAISE, ladder[0], coarse)
        empty = _stage(ladder, l1_ratio, run)
        empty[-1] = False  # the previous ladder's top, alive: the bracket is inside this ladder
        probed += coarse
    if not empty[0]:  # still alive: start at the highest strength tried
        return float(ladder[0]), probed
    first_alive = int(np.argmax(~empty))
    hi, lo = ladder[first_alive - 1], ladder[first_alive]
    inner = np.geomspace(hi, lo, fine + 2)[1:-1]
    empty_inner = _stage(inner, l1_ratio, run)
    alive = np.flatnonzero(~empty_inner)
    if not alive.size:  # every inner strength empty: the last one, just above the living ``lo``
        top = inner[-1]
    else:  # the smallest empty strength above the largest living one
        top = hi if alive[0] == 0 else inner[alive[0] - 1]
    return float(top), probed + fine


def probe_runner(plan, rows, network, epochs):
    """The ``run`` of :func:`probe_top`: members on all rows, ``epochs`` epochs, their emptiness.

    With the proximal step an empty network is exactly zero and stays so (zero kernels get no
    gradient), so a short probe (:func:`probe_epochs`) tells. Without it (ridge, or
    ``proximal=False``) nothing reaches zero and a network near zero can still escape late
    (zero is a saddle of two layers): the probe trains all ``epochs`` and a member is also
    empty when its spread is under :data:`RELATIVE_SPREAD` of the least penalized member's.
    """
    training = plan.training.replace(epochs=epochs)
    cost = {"members": 0, "member_epochs": 0}

    def run(l1, l2):
        K = len(l1)
        everything = np.full(K, plan.everything)
        members = MemberSpec.of(l1, l2, train=(plan.row_sets, everything), scaling=plan.scaling(everything))
        weights, _ = train(plan, network, rows, members, training)
        outputs = member_outputs(network, rows, weights, training.loss, members.scaling)
        if "reference" not in cost:  # the first ladder ends at the grid's bottom: its least penalized
            cost["reference"] = None if training.proximal else float(member_spread(outputs[-1:], plan.task,
                                                                                     plan.y_scale)[0])
        cost["members"] += K
        cost["member_epochs"] += K * epochs
        return empty_members(weights, outputs, plan.task, plan.y_scale, cost["reference"])

    return run, cost


def extended_lambdas(lambdas, count):
    """``count`` strengths continuing the descending log grid ``lambdas`` below its end.

    Examples
    --------
    >>> np.round(extended_lambdas(np.array([1.0, 0.1]), 2), 12).tolist()
    [0.01, 0.001]
    """
    lambdas = np.asarray(lambdas, float)
    ratio = lambdas[-1] / lambdas[-2] if len(lambdas) > 1 else 0.1
    return lambdas[-1] * ratio ** np.arange(1, count + 1)


#: Extensions of the bottom at most, each a quarter of ``n_lambdas`` more strengths.
MAX_EXTENSIONS, EXTENSION_SHARE = 2, 0.25


def probed_lambdas(analytic, l1_ratio, lambda_min_ratio, run):
    """The default network grid: :func:`probe_top`'s top over the analytic grid ``analytic``
    (:func:`kerasnet.path.grid.default_lambdas`, whose top bounds the probe's ladder, doubled),
    down to ``lambda_min_ratio`` times the smaller of that top and the lasso scale (the
    analytic grid's bottom rule), as many strengths. The analytic grid when the probe finds
    no empty strength above a living one."""
    analytic = np.asarray(analytic, float)
    top, _ = probe_top(2.0 * analytic[0], analytic[-1], l1_ratio, run)
    if top is None:
        return analytic
    bottom = min(lambda_min_ratio * top, analytic[-1])
    return np.geomspace(top, bottom, len(analytic))


def extension_count(n_lambdas):
    """Strengths added by one extension of the bottom: a quarter of the grid, at least 1."""
    return max(1, int(np.ceil(EXTENSION_SHARE * n_lambdas)))


#: A CV measure within this share (relative) of the null model's, or worse, is the null model's.
NULL_TOLERANCE = 1e-3
#: Strengths fitted above the grid's top, one at a time, while its first strength learns.
MAX_RAISES = 2


def refit_empty(plan, rows, network, weights):
    """Which refits of a fitted path are empty (:func:`empty_members`, the probe's rule).

    With the proximal step only exact zeros count (:func:`structurally_empty`; no pass over the
    rows). Without it (ridge, or ``proximal=False``) nothing is exactly zero: a refit is empty
    when its outputs on all rows vary by less than :data:`RELATIVE_SPREAD` of the least penalized
    refit's (the last strength's), as in the probe.
    """
    if plan.training.proximal:
        return structurally_empty(weights)
    outputs = member_outputs(network, rows, weights, plan.training.loss, plan.refit_scaling(len(weights)))
    reference = float(member_spread(outputs[-1:], plan.task, plan.y_scale)[0])
    return empty_members(weights, outputs, plan.task, plan.y_scale, reference)


def null_top(cv_mean, null_mean, greater_is_better, empty, tolerance=NULL_TOLERANCE):
    """How many leading strengths of a fitted path give the null model.

    Strength ``i`` gives the null model when its refit is ``empty`` (:func:`refit_empty`) or its
    CV mean is no better than ``null_mean`` by more than ``tolerance * |null_mean|``. A
    diverged strength (NaN mean, nonempty refit) does not.

    Examples
    --------
    >>> null_top([2.2, 2.1975, 1.9, 2.3], 2.197, False, [False] * 4)  # worse, equal, better
    2
    >>> null_top([1.5, 1.9], 2.197, False, [True, False])  # an empty refit, whatever its CV says
    1
    """
    mean = np.asarray(cv_mean, float)
    sign = 1.0 if greater_is_better else -1.0
    margin = tolerance * max(abs(float(null_mean)), 1e-12)
    with np.errstate(invalid="ignore"):
        no_better = sign * (mean - float(null_mean)) <= margin  # NaN: False
    null = np.asarray(empty, bool) | no_better
    return int(np.argmin(null)) if not null.all() else len(null)


def raised_lambdas(lambdas, count=1):
    """``count`` strengths continuing the descending log grid ``lambdas`` above its top, descending;
    those above :data:`kerasnet.path.arguments.MAX_STRENGTH` left out.

    Examples
    --------
    >>> raised_lambdas(np.array([1.0, 0.1]), 2).tolist()
    [100.0, 10.0]
    >>> raised_lambdas(np.array([1e5, 1.0]), 2).tolist()
    []
    """
    lambdas = np.asarray(lambdas, float)
    ratio = lambdas[0] / lambdas[1] if len(lambdas) > 1 else 10.0
    above = lambdas[0] * ratio ** np.arange(count, 0, -1)
    return above[above <= MAX_STRENGTH]  # fit_path's bound on any strength
