"""The lambda grid and the cross-validated choice of lambda, as pure array functions."""

from __future__ import annotations

import numpy as np

from ..penalty import check_strength
from .inputs import flat_inputs
from .members import held

__all__ = ["gradient_factor", "null_residual", "null_gradient", "lambdas_from_gradient", "lambda_max",
           "lambda_grid", "default_lambdas", "deviance_ratio", "null_loss", "path_lambdas", "cv_summary",
           "select_min", "select_1se"]

# glmnet's fallback for l1_ratio ~ 0: lambda_max is computed as if alpha were 1e-3.
MIN_L1_RATIO_FOR_MAX = 1e-3


def null_gradient(X, y, task, sample_weight=None):
    """Gradient of the mean data loss with respect to a linear map at the null model.

    ``G = c * X' (w * r) / n``, shape ``[d, k]``: ``X`` as given (standardize it first),
    ``r = Y - mean_w(Y)`` the null (intercept-only) model's residual, ``Y`` the target as
    ``k`` columns (one-hot classes for ``multiclass``, ``y`` holding integer codes),
    ``w`` the sample weights normalized to sum to ``n`` (all ones when None; integer
    weights then give the same ``G`` as repeated rows), and ``c`` the loss's factor
    (:func:`gradient_factor`): ``2 / k`` for Keras's mean squared error over ``k`` outputs
    (``mean((y-f)^2)`` differentiates to ``2 x'r/(n k)``), 1 for the cross-entropies
    (gradient ``p - y`` with respect to the logits).

    Examples
    --------
    >>> X = np.array([[1.0], [-1.0]]); y = np.array([1.0, 0.0])
    >>> null_gradient(X, y, "binary").tolist()
    [[0.5]]
    >>> null_gradient(X, y, "regression", sample_weight=[3, 1]).tolist()
    [[0.75]]
    """
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    w, r = null_residual(y, task, n, sample_weight)
    return gradient_factor(task, r.shape[1]) * (X.T @ (w[:, None] * r)) / n


def gradient_factor(task, k):
    """The loss's factor ``c`` in ``G = c X' (w r) / n`` for ``k`` target columns.

    Keras's mean squared error averages over the ``k`` outputs, ``mean_k (y_k - f_k)^2``, so
    its gradient is ``2 x'r / (n k)``: ``c = 2 / k`` (glmnet's ``mgaussian`` sums the
    outputs' losses; here each output weighs ``1/k``). The cross-entropies differentiate to
    ``p - y`` per logit: ``c = 1``.
    """
    return 2.0 / k if task == "regression" else 1.0


def null_residual(y, task, n, sample_weight=None, exposure=None):
    """``(w, r)``: the weights normalized to sum to ``n`` and the null model's residual
    ``r = Y - mean_w(Y)`` ``[n, k]`` (:func:`null_gradient` is ``c X' (w r) / n``); for
    Poisson with ``exposure = exp(offset)``, ``r = y - c * exposure`` with the null rate
    ``c = sum(w y) / sum(w exposure)`` (the log link's gradient at the intercept-only fit)."""
    if task == "cox":  # the null model's martingale residuals (its gradient is -X' w r / n)
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float).ravel()
        from ..survival import null_martingale_residual

        return w * (n / w.sum()), null_martingale_residual(y, w)[:, None]
    if task == "multiclass":
        y = np.asarray(y).astype(int).ravel()
        Y = np.eye(int(y.max()) + 1)[y]
    else:
        Y = np.asarray(y, dtype=float).reshape(n, -1)
    if sample_weight is None:
        w = np.ones(n)
    else:
        w = np.asarray(sample_weight, dtype=float).ravel()
        w = w * (n / w.sum())
    if task == "poisson" and exposure is not None:
        e = np.asarray(exposure, float).reshape(n, 1)
        return w, Y - (w @ Y) / (w @ e) * e
    return w, Y - (w @ Y) / n


def unpenalized_residual(Z, y, task, w, exposure=None):
    """The residual ``Y - fitted`` of the unpenalized GLM of ``y`` on the columns ``Z`` (the
    features with penalty factor 0) and an intercept, weighted by ``w``: glmnet's null model
    when some features are unpenalized, whose gradient gives the grid's top. Fitted with
    scikit-learn (least squares, logistic or Poisson regression without a penalty); for Poisson
    the offset enters as the rate regression ``y / e`` weighted by ``w e``. None for Cox (the
    plain null model is used; documented in :func:`lambdas_from_gradient`)."""
    from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor

    Z, w = np.asarray(Z, float), np.asarray(w, float)
    if task == "regression":
        Y = np.asarray(y, float).reshape(len(Z), -1)
        return Y - LinearRegression().fit(Z, Y, sample_weight=w).predict(Z).reshape(Y.shape)
    if task in ("binary", "multiclass"):
        codes = np.asarray(y).astype(int).ravel()
        fit = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(Z, codes, sample_weight=w)
        Y = np.eye(int(codes.max()) + 1)[codes]
        P = fit.predict_proba(Z)
        return (Y - P)[:, 1:] if task == "binary" else Y - P
    if task == "poisson":
        counts = np.asarray(y, float).ravel()
        e = np.ones_like(counts) if exposure is None else np.asarray(exposure, float).ravel()
        fit = PoissonRegressor(alpha=0.0, tol=1e-12, max_iter=10_000).fit(Z, counts / e, sample_weight=w * e)
        return (counts - e * fit.predict(Z))[:, None]
    return None


def lambda_max(X, y, task, l1_ratio, sample_weight=None):
    """Smallest strength at which the linear (glmnet) model is all zero, at the null model.

    ``lambda_max = max_j |x_j' r| * c / (n * max(l1_ratio, 1e-3))`` with ``X`` as given
    (standardize it first), ``r`` the null model's residual (``y - mean(y)``; one column
    per class for ``multiclass``, one-hot ``y``) and ``c`` the loss's gradient factor:
    ``2 / k`` for Keras's mean squared error over ``k`` outputs (``mean((y-f)^2)``
    differentiates to ``2 x'r/(n k)``), 1 for the cross-entropies; that is ``max |G|`` of
    :func:`null_gradient` (with ``sample_weight``, ``x_j' (w*r)`` and the weighted mean).
    Below ``l1_ratio = 1e-3`` glmnet's fallback keeps the grid finite for ridge. This is the
    linear model's rule: networks get their own top in :func:`default_lambdas`.

    Examples
    --------
    >>> X = np.array([[1.0], [-1.0]]); y = np.array([1.0, 0.0])
    >>> float(lambda_max(X, y, "binary", 1.0))
    0.5
    """
    G = null_gradient(X, y, task, sample_weight)
    return float(np.abs(G).max() / max(l1_ratio, MIN_L1_RATIO_FOR_MAX))


def lambda_grid(lam_max, n_lambdas=32, lambda_min_ratio=1e-3):
    """``n_lambdas`` log-spaced strengths from ``lam_max`` down to ``lam_max*lambda_min_ratio``.

    Examples
    --------
    >>> lambda_grid(1.0, 3, 0.01).tolist()
    [1.0, 0.1, 0.01]
    """
    return np.geomspace(lam_max, lam_max * lambda_min_ratio, n_lambdas)


def default_lambdas(X, y, task, l1_ratio, n_lambdas=32, lambda_min_ratio=1e-3, sample_weight=None,
                    linear=False):
    """The default path: ``n_lambdas`` log-spaced strengths from a near-constant model down
    to where the penalty no longer matters, descending.

    With ``G`` the null model's gradient (:func:`null_gradient`; ``X`` standardized),
    ``a = l1_ratio``, the lasso scale ``s1 = max |G|`` and the ridge scale
    ``s2 = ||G||_2`` (spectral norm; the vector norm for one output):

    - ``linear=True`` (``hidden=()``): glmnet's grid exactly, from
      ``s1 / max(a, 1e-3)`` (:func:`lambda_max`) down to ``lambda_min_ratio`` times it.
    - networks: from ``top = min(s1 / a, s2 / (1 - a))`` (a term is infinite when its
      ratio is 0) down to ``bottom = lambda_min_ratio * min(top, s1)``.

    Why this top: the penalty is ``lambda * (a |W|_1 + (1-a)/2 |W|_2^2)`` on every kernel,
    and the constant network is optimal once either part alone makes it so (adding a
    penalty that is zero at zero keeps zero optimal), hence the ``min``.

    - L2 part: weight decay on a hidden and an output layer, minimized over each unit's
      rescaling, is ``lambda (1-a) sum_j ||a_j|| ||u_j||`` (for linear layers the nuclear
      norm, ``min (|W1|^2 + |W2|^2) / 2 = ||W2 W1||_*``), a convex norm of the fitted
      function; so the constant is optimal iff ``lambda (1-a)`` is at least
      ``sup ||(1/n) sum_i g_i relu(u'x_i + b)||`` over unit ``u`` and free bias ``b``,
      which contains the linear units (large ``b``) and so is at least ``||G||_2``. On
      breast cancer, diabetes and wine a search over units found none above ``||G||_2``,
      and converged fits of one hidden layer are constant from about ``||G||_2`` up.
      Deeper networks collapse lower (two hidden layers of 64: about ``0.4 ||G||_2``).
    - L1 part: ``s1 / a`` is where a linear map's subgradient condition holds at zero
      (glmnet's rule); networks, whose L1 on two layers is not convex in the function,
      stayed constant down to a quarter or a third of it.

    These are bounds. :func:`kerasnet.fit_path` measures where its network actually
    empties and starts the grid there (the last strength whose network predicts a
    constant: Df 0 at the top, a feature at the second; :mod:`kerasnet.path.grid_ends`,
    a probe of one member per strength on all rows, as glmnet's ``lambda_max`` uses all
    rows), from twice this top down to this bottom; it extends the bottom while the best
    CV strength is the last. ``linear=True`` is glmnet's grid and is used as computed here.

    glmnet's ``s1 / 1e-3`` for ridge is ``1000 s1``, far above ``||G||_2 <= sqrt(d*k) s1``,
    and wastes the whole default grid on constant networks. The bottom,
    ``lambda_min_ratio`` times the lasso scale (glmnet's own for ``a = 1``), is where the
    bundled datasets' paths score as with no penalty for every ``a``; the span is then
    wider than ``1 / lambda_min_ratio`` when the ridge part sets the top.

    Parameters
    ----------
    X : array [n, d]
        Standardized features.
    y : array [n] or [n, k]
        Target as the network fits it (a regression target standardized; class codes).
    task : {"binary", "multiclass", "regression"}
    l1_ratio : float in [0, 1]
    n_lambdas : int, default 32
    lambda_min_ratio : float in (0, 1), default 1e-3
    sample_weight : array [n] or None
        Normalized to sum to ``n``; the null model is the weighted mean.
    linear : bool, default False
        The model is linear (``hidden=()``): glmnet's rule.

    Examples
    --------
    >>> X = np.array([[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])
    >>> y = np.array([1.0, 1.0, 1.0, 0.0])
    >>> default_lambdas(X, y, "binary", 0.0, 3, 0.01).round(6).tolist()  # s1 = 0.25, s2 = 0.353553
    [0.353553, 0.02973, 0.0025]
    >>> default_lambdas(X, y, "binary", 1.0, 3, 0.01).round(6).tolist()  # glmnet's lasso grid
    [0.25, 0.025, 0.0025]
    >>> default_lambdas(X, y, "binary", 0.0, 2, 0.01, linear=True).tolist()
    [250.0, 2.5]
    """
    return lambdas_from_gradient(null_gradient(X, y, task, sample_weight), l1_ratio, n_lambdas,
                                 lambda_min_ratio, linear)


def lambdas_from_gradient(G, l1_ratio, n_lambdas=32, lambda_min_ratio=1e-3, linear=False, factor=None):
    """:func:`default_lambdas` from the null model's gradient ``G [d, k]`` (for features
    streamed in chunks, where ``G`` is summed chunk by chunk).

    With penalty ``factor [d]`` (glmnet's ``penalty.factor``, excluded features held:
    :data:`~kerasnet.path.members.HELD`)
    row ``j`` of ``G`` is divided by ``factor[j]`` for the lasso scale (glmnet's
    ``max_j |g_j| / vp_j``) and by its square root for the ridge scale; unpenalized and
    excluded features are left out of both. As glmnet, ``G`` is then the gradient at the fit
    of the unpenalized features (:func:`unpenalized_residual`; for Cox, at the plain null
    model)."""
    if factor is not None:
        f = np.asarray(factor, float)[:, None]
        counted = (f > 0) & ~held(f)
        with np.errstate(divide="ignore", invalid="ignore"):
            lasso_g, ridge_g = np.where(counted, G / f, 0.0), np.where(counted, G / np.sqrt(f), 0.0)
        return _lambdas(lasso_g, ridge_g, l1_ratio, n_lambdas, lambda_min_ratio, linear)
    return _lambdas(G, G, l1_ratio, n_lambdas, lambda_min_ratio, linear)


def _lambdas(G, G_ridge, l1_ratio, n_lambdas, lambda_min_ratio, linear):
    lasso = float(np.abs(G).max())
    if not lasso > 0:
        raise ValueError("the target is constant or uncorrelated with every feature (the null model's "
                         "gradient is zero): no default strengths; pass lambdas explicitly.")
    if linear:
        return lambda_grid(lasso / max(l1_ratio, MIN_L1_RATIO_FOR_MAX), n_lambdas, lambda_min_ratio)
    ridge = float(np.linalg.norm(G_ridge, 2))
    top = min(lasso / l1_ratio if l1_ratio > 0 else np.inf,
              ridge / (1.0 - l1_ratio) if l1_ratio < 1 else np.inf)
    return np.geomspace(top, lambda_min_ratio * min(top, lasso), n_lambdas)


def cv_summary(values, excluded=None, weights=None):
    """Mean and standard error over folds (axis 1) of ``values [n_lambdas, n_folds]``.

    glmnet's ``cvm`` and ``cvsd``: with fold ``weights`` (each fold's total row weight) the
    mean is weighted and ``se = sqrt(weighted mean of (value - mean)^2 / (n_folds - 1))``;
    with equal weights that is ``std(ddof=1) / sqrt(n_folds)``. Rows with an ``excluded``
    fold (diverged members) get NaN.

    Examples
    --------
    >>> mean, se = cv_summary([[1.0, 3.0]], weights=[1.0, 3.0])
    >>> float(mean[0]), float(se[0])
    (2.5, 0.8660254037844386)
    """
    values = np.asarray(values, dtype=float)
    folds = values.shape[1]
    w = np.ones(folds) if weights is None else np.asarray(weights, float)
    w = np.broadcast_to(w, values.shape)
    with np.errstate(invalid="ignore"):  # diverged members hold NaN / inf
        mean = (values * w).sum(axis=1) / w.sum(axis=1)
        spread = (np.square(values - mean[:, None]) * w).sum(axis=1) / w.sum(axis=1)
        se = np.sqrt(spread / (folds - 1)) if folds > 1 else np.zeros(len(values))
    if excluded is not None:
        bad = np.asarray(excluded, bool).any(axis=1)
        mean, se = np.where(bad, np.nan, mean), np.where(bad, np.nan, se)
    return mean, se


def select_min(lambdas, mean, greater_is_better=True):
    """Index of the best mean (NaN ignored); ties go to the largest strength (glmnet)."""
    lambdas, mean = np.asarray(lambdas, float), np.asarray(mean, float)
    score = mean if greater_is_better else -mean
    if np.all(np.isnan(score)):
        raise ValueError("every strength diverged or has no CV score; nothing to select.")
    best = np.nanmax(score)
    candidates = np.flatnonzero(score == best)
    return int(candidates[np.argmax(lambdas[candidates])])


def select_1se(lambdas, mean, se, greater_is_better=True):
    """Index of glmnet's ``lambda.1se``: the largest strength whose mean is within one
    standard error of the best mean (the best strength's own SE).

    Examples
    --------
    >>> select_1se([1.0, 0.1, 0.01], [0.80, 0.90, 0.92], [0.01, 0.01, 0.03])
    1
    """
    lambdas, mean, se = (np.asarray(a, float) for a in (lambdas, mean, se))
    i = select_min(lambdas, mean, greater_is_better)
    score = mean if greater_is_better else -mean
    within = score >= score[i] - se[i]
    within &= ~np.isnan(score)
    candidates = np.flatnonzero(within)
    return int(candidates[np.argmax(lambdas[candidates])])


def path_lambdas(lambdas, X, y, task, l1_ratio, n_lambdas, lambda_min_ratio, weight, linear, gradient=None,
                 factor=None):
    """``fit_path``'s strengths, descending: given, or glmnet's data-derived grid on all rows
    (from the null gradient ``gradient`` of the standardized features; a user's model: its
    inputs flattened and standardized here)."""
    if lambdas is not None:
        lambdas = np.atleast_1d(np.asarray(lambdas, dtype=float))
        if lambdas.ndim != 1 or lambdas.size < 1:
            raise ValueError(f"lambdas must be a 1-D sequence of strengths; received {lambdas!r}.")
        for value in lambdas:
            check_strength(float(value), "each of lambdas")
        return np.sort(lambdas)[::-1]
    if gradient is None:
        target = np.asarray(y, float).reshape(len(y), -1) if task == "regression" else y
        gradient = null_gradient(flat_inputs(X, weight), target, task, weight)
    return lambdas_from_gradient(gradient, l1_ratio, n_lambdas, lambda_min_ratio, linear, factor)


def deviance_ratio(loss, y, task, weight, y_mean=None, y_scale=None, exposure=None):
    """glmnet's ``dev.ratio`` from members' weighted mean data losses ``loss`` on their rows:
    ``1 - (loss - saturated) / (null - saturated)``. Keras's losses are the deviance over 2
    plus a constant that only the saturated model removes: 0 for squared error and hard
    class labels, ``mean(y - y log y)`` for Poisson's."""
    saturated = 0.0
    if task == "poisson":
        w, counts = np.asarray(weight, float), np.asarray(y, float).ravel()
        saturated = float((w / w.sum()) @ (counts - counts * np.log(counts + 1e-7)))
    null = null_loss(y, task, weight, y_mean, y_scale, exposure)
    return 1.0 - (np.asarray(loss, float) - saturated) / (null - saturated)


def null_loss(y, task, weight, y_mean=None, y_scale=None, exposure=None):
    """The constant model's weighted mean data loss on ``y`` (Keras's loss: mean squared
    error over the outputs of the target standardized with ``y_mean``/``y_scale``, or the
    cross-entropy at the weighted class shares): the denominator of glmnet's ``dev.ratio``."""
    w = np.asarray(weight, float)
    w = w / w.sum()
    if task == "regression":
        Y = np.asarray(y, float).reshape(len(w), -1)
        if y_mean is not None:
            Y = (Y - np.asarray(y_mean, float).reshape(1, -1)) / np.asarray(y_scale, float).reshape(1, -1)
        return float(np.mean(w @ np.square(Y - w @ Y)))
    if task == "poisson":  # Keras's poisson, mu - y log(mu + eps), at mu = c * exposure
        counts = np.asarray(y, float).ravel()
        e = np.ones_like(counts) if exposure is None else np.asarray(exposure, float).ravel()
        mu = (w @ counts) / (w @ e) * e
        return float(w @ (mu - counts * np.log(mu + 1e-7)))
    codes = np.asarray(y).astype(int).ravel()
    shares = np.bincount(codes, weights=w, minlength=2)
    shares = np.clip(shares, 1e-7, 1 - 1e-7)  # Keras clips probabilities by its epsilon
    return float(-(w * np.log(shares[codes])).sum())
