"""Feature selection on the path: where the group lasso on the input features starts.

With ``fit_path(..., feature_selection=True)`` the path's strength ``lambda`` is a group lasso
``lambda * sum_j ||W1[j]||_2`` on the first layer's rows (one per input feature), trained by
its exact proximal step; the other kernels keep a fixed small L2 (``hidden_l2``) so the
network cannot dodge the penalty by shrinking the first layer and growing the next. Every
member starts from its split's network trained without the feature penalty (the warm start
of LassoNet's path), so the features the network uses are in before the penalty decides.

The top of the grid, :func:`group_lambda_max`, is where no feature survives:

* linear model (``hidden=()``): the group lasso's own rule, ``max_j ||G_j||_2`` with ``G``
  the null model's gradient (:func:`kerasnet.path.grid.null_gradient`): exactly the
  smallest strength whose solution has no feature (KKT).
* network: ``max_j g_j``, where ``g_j = ||dL/dW1[j]||_2`` at the all-rows warm start with
  row ``j`` set to zero. A zero row stays zero when its gradient norm is at most
  ``lambda`` (the group lasso's condition, in any optimizer's metric), so above ``max_j g_j``
  no feature, removed, comes back; the proximal step removes them from the warm start.
  One feature at a time, at one point: an empirical rule for a non-convex network (the
  tests check the top strength keeps no feature), on all rows or a seeded sample of 8,192.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from ..proximal import numpy_row_norms
from . import grid
from .autodiff import value_and_grad
from .members import HELD, HOLD
from .step import per_sample_loss

__all__ = ["adaptive_factors", "adaptive_gamma", "first_layer_norms", "group_lambda_max", "held_out",
           "scaled_strengths"]


def group_lambda_max(network, rows, loss, mean, scale, y_scale=None, linear_gradient=None, sample=8192,
                     seed=0, factors=None, from_empty=False):
    """The strength at which the group lasso keeps no input feature (see the module doc).

    Parameters
    ----------
    network : keras.Model
        The MLP at its starting weights (first trainable variable: the first kernel).
    rows : kerasnet.path.rows.Rows
        All rows, prepared once: features (raw; standardized here with ``mean`` / ``scale``),
        the target as the network fits it (class codes; a regression target raw, with
        ``y_scale = (y_mean, y_sd)`` to standardize it) and row weights.
    loss : str or keras loss
    linear_gradient : array [d, k] or None
        For ``hidden=()``: the null gradient ``G``; the rule is then ``max_j ||G_j||_2``.
    sample : int, default 8192
        Rows used for a network's rule (all rows when there are fewer; else a sample drawn
        with ``seed``).
    factors : array [d] or [S, d], or None
        Per-feature penalty factors (feature ``j``'s strength is ``lambda * factors[j]``;
        :data:`~kerasnet.path.members.HELD` holds it at zero): the rule becomes
        ``max_j g_j / factors[j]`` over the
        penalized features not held (0 when there is none); with one row of factors per split,
        one such strength per split.
    from_empty : bool, default False
        Also require that no feature enters the network whose whole first layer is zero
        (the other layers as they are): ``g_j`` becomes the larger of the two gradient
        norms. With correlated features, removing any one of them costs the warm start
        little, and the first rule alone can sit far below the strength that empties the
        network; stability selection, whose error bound lives at the sparse end, uses both.

    Returns
    -------
    float (an array [S] with factors [S, d])
        ``max_j g_j`` with ``g_j = ||dL/dW1[j]||_2`` at the starting weights with row ``j``
        set to zero: the strength above which no feature, removed, would re-enter (the
        group lasso's condition for a zero row), one feature at a time.
    """
    free = None if factors is None else np.asarray(factors) < HELD

    def largest(g):
        if factors is None:
            return float(g.max())
        penalized = free & (np.asarray(factors) > 0)  # an unpenalized feature never leaves
        with np.errstate(divide="ignore", invalid="ignore"):
            tops = np.where(penalized, g / np.asarray(factors), 0.0).max(axis=-1)
        return float(tops) if tops.ndim == 0 else tops

    if linear_gradient is not None:
        return largest(numpy_row_norms(linear_gradient))
    x, target, w = _rows(rows, sample, seed)
    mean, scale = (ops.convert_to_tensor(np.asarray(v, "float32")) for v in (mean, scale))
    x = (x - mean) / scale
    if y_scale is not None:
        target = ((target.reshape(len(target), -1) - y_scale[0]) / y_scale[1]).astype("float32")
    target, w = ops.convert_to_tensor(target), ops.convert_to_tensor((w / w.sum()).astype("float32"))
    if isinstance(loss, str) and loss == "cox":  # one batch of the rows: their own risk sets, weighted
        from ..survival import cox_terms

        def per_row(target, out):
            return cox_terms(target[:, 0], target[:, 1], ops.reshape(out, (-1,)), w)
    else:
        per_row = per_sample_loss(loss)
    trainable = [v.value for v in network.trainable_variables]
    non_trainable = [v.value for v in network.non_trainable_variables]

    def mean_loss(params):
        out = network.stateless_call([params[0], *trainable[1:]], non_trainable, x)[0]
        return ops.sum(per_row(target, out) * w), ()

    gradient = value_and_grad(mean_loss)
    if keras.backend.backend() == "jax":
        import jax

        gradient = jax.jit(gradient)
    first = np.asarray(ops.convert_to_numpy(trainable[0]))
    norms = np.zeros(first.shape[0])
    for j in range(first.shape[0]):
        if free is not None and not free.reshape(-1, len(norms))[:, j].any():
            continue
        removed = first.copy()
        removed[j] = 0.0
        grad = gradient([ops.convert_to_tensor(removed)])[1][0]
        norms[j] = float(np.linalg.norm(np.asarray(ops.convert_to_numpy(grad))[j]))
    if from_empty:  # and no feature enters the network whose first layer is empty
        grad = np.asarray(ops.convert_to_numpy(gradient([ops.zeros_like(trainable[0])])[1][0]))
        norms = np.maximum(norms, numpy_row_norms(grad))
    return largest(norms)


def _rows(rows, sample, seed):
    """``(x, y, weight)`` of all rows (x the device copy of arrays in memory), or of ``sample``
    rows drawn with ``seed``, chunk by chunk."""
    n = rows.n
    if n <= sample and rows.resident:  # the rows already on the device: nothing sent again
        return ops.cast(rows.table(), "float32"), rows.y, rows.weight
    index = np.arange(n) if n <= sample else \
        np.sort(np.random.default_rng(seed).choice(n, sample, replace=False))
    parts = []
    for i, (a, b) in enumerate(rows.chunks.bounds):
        inside = index[(index >= a) & (index < b)]
        if len(inside):
            parts.append(np.asarray(rows.chunks.read(i))[inside - a])
    x = ops.convert_to_tensor(np.concatenate(parts).astype("float32"))
    return x, rows.y[index], rows.weight[index]


def scaled_strengths(lambdas, of, factors=None):
    """Each member's group strength: its strength ``lambdas[k]`` (``[K]``, one per member), times
    its split's per-feature ``factors`` (``[S, d]``, row ``of[k]``, or one ``[d]`` for all) when
    given: then ``[K, d]``, a held feature at :data:`~kerasnet.path.members.HOLD`."""
    lam = np.asarray(lambdas, float)
    if factors is None:
        return lam
    factors = np.asarray(factors, float)
    rows = factors[np.asarray(of)] if factors.ndim == 2 else factors[None, :]
    return np.minimum(lam[:, None] * rows, HOLD).astype("float32")


def adaptive_gamma(adaptive):
    """``adaptive=`` as the adaptive group lasso's ``gamma``: True is 1, a positive number
    itself, False or None no adaptive stage (None is returned)."""
    if adaptive is None or adaptive is False:
        return None
    if adaptive is True:
        return 1.0
    from ..penalty import check_strength

    gamma = check_strength(adaptive, "adaptive")
    if gamma == 0:
        raise ValueError("adaptive must be True, False, None or a positive gamma; received adaptive=0 "
                         "(use False for the plain group lasso).")
    return gamma


def first_layer_norms(weights):
    """``[K, d]``: each member's first-layer row norms (one per input feature), in float64
    (:func:`kerasnet.proximal.numpy_row_norms` of ``w[0]``, the first kernel, of each weight list)."""
    return np.stack([numpy_row_norms(w[0]) for w in weights])


def adaptive_factors(norms, values, excluded, fold_weights, lambdas, greater_is_better, gamma):
    """The adaptive group lasso's penalty factors ``[S, d]``, one row per split.

    Split ``s``'s factor for feature ``j`` is ``||W1[j]||_2 ** -gamma`` of its own member of
    the first path at the strength chosen *without split s's validation rows*: split
    ``s < F`` takes the strength with the best mean score over the other splits (cross-fit,
    as early stopping); a split ``s >= F`` (the all-rows refit) the best mean over all
    ``F``, glmnet's ``lambda_min``; in both cases among the strengths at which split ``s``'s
    member kept a feature. A feature that member dropped is held at zero (an infinite
    factor; a split whose members kept none keeps none). Each row is scaled so that its
    strongest feature's factor is 1 (``(max_k ||W1[k]|| / ||W1[j]||) ** gamma``): ``lambda``
    keeps the plain group lasso's scale, and splits whose networks differ in overall scale
    still weigh their features alike.

    Parameters
    ----------
    norms : array [L, S, d]
        First-layer row norms of split ``s``'s member at strength ``i``.
    values, excluded : arrays [L, F]
        The first path's score of each (strength, split) on its validation rows, and which
        members diverged; ``fold_weights [F]`` weigh the splits' means.
    """
    norms, values = np.asarray(norms, float), np.asarray(values, float)
    L, S, _ = norms.shape
    F = values.shape[1]
    chosen = []
    for s in range(S):
        keep = np.arange(F) != s
        mean, _ = grid.cv_summary(values[:, keep], np.asarray(excluded)[:, keep],
                                  np.asarray(fold_weights)[keep])
        kept = norms[:, s].any(axis=1)
        if not kept.any():
            chosen.append(norms[0, s])  # the split's members kept no feature: nothing to weigh
            continue
        i = grid.select_min(np.asarray(lambdas)[kept], mean[kept], greater_is_better)
        chosen.append(norms[int(np.flatnonzero(kept)[i]), s])
    chosen = np.stack(chosen)
    strongest = chosen.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = (strongest / chosen) ** float(gamma)
    return np.where(chosen > 0, factors, HOLD)


def held_out(weights):
    """Per-feature group strengths ``[K, d]`` that keep each member's own features free and
    hold the others at zero (a relaxed refit: the selected features, no feature penalty)."""
    return np.where(first_layer_norms(weights) > 0, 0.0, HOLD).astype("float32")
