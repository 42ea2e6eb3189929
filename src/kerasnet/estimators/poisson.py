"""The cross-validated Poisson estimator: :class:`ElasticNetMLPPoissonRegressorCV` (counts, log link)."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import d2_tweedie_score
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .cv import _CV_PARAMS_DOC, BaseElasticNetMLPCV


class PoissonOutputs:
    """Count targets, rates and expected counts (``rate * exp(offset)``), scored by D^2 (so it
    comes before ``RegressorMixin``, whose ``score`` is R^2)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags

    def _encode_targets(self, y, sample_weight):
        y = column_or_1d(y, warn=True).astype(np.float64)
        if (y < 0).any():
            raise ValueError("Poisson regression needs counts y >= 0; received negative values (use "
                             "ElasticNetMLPRegressorCV for real-valued targets).")
        if not sample_weight @ y > 0:
            raise ValueError("Poisson regression needs some count y > 0 on a row of positive weight; every "
                             "one is 0.")
        return y[:, None], "poisson", 1

    def predict(self, X, offset=None):
        """Expected counts: the rate ``exp(f(X))`` times ``exp(offset)`` (the rate when None).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        offset : array-like of shape (n_samples,), default None
            Each row's log exposure, as given to :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        rate = self._forward(X).ravel()
        if offset is None:
            return rate
        offset = np.asarray(offset, dtype=np.float64).ravel()
        if offset.shape != rate.shape or not np.all(np.isfinite(offset)):
            raise ValueError(f"offset must hold one finite log exposure per row of X ({len(rate)}); received "
                             f"shape {offset.shape}.")
        return rate * np.exp(offset)

    def score(self, X, y, sample_weight=None, offset=None):
        """D^2, the share of the Poisson deviance explained (scikit-learn's ``PoissonRegressor.score``).

        Returns
        -------
        float
        """
        check_is_fitted(self, "model_")
        return float(d2_tweedie_score(y, self.predict(X, offset), sample_weight=sample_weight, power=1))


class ElasticNetMLPPoissonRegressorCV(PoissonOutputs, RegressorMixin, BaseElasticNetMLPCV):
    __doc__ = (
        """Elastic-net MLP Poisson regressor (log link) whose strength is chosen by cross-validation.

    glmnet's ``family="poisson"`` on a network, as :class:`ElasticNetMLPRegressorCV` otherwise:
    the output is the rate ``exp(f(x))``, the loss Poisson's deviance, ``lambda_max`` the null
    model's with the offset, and :meth:`fit` / :meth:`predict` / :meth:`score` take each row's
    log exposure as ``offset`` (:func:`kerasnet.fit_path`'s ``offset=``). ``model_`` predicts
    the rate (offset 0). The measures are ``deviance`` (Poisson's), ``mse`` and ``mae`` (of the
    counts); :meth:`score` is D^2, as scikit-learn's :class:`~sklearn.linear_model.PoissonRegressor`.
"""
        + _CV_PARAMS_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from kerasnet.sklearn import ElasticNetMLPPoissonRegressorCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> exposure = rng.uniform(1, 2, size=200)
    >>> y = rng.poisson(exposure * np.exp(0.5 * X[:, 0]))
    >>> reg = ElasticNetMLPPoissonRegressorCV((8,), n_lambdas=4, max_iter=20, random_state=0)
    >>> reg = reg.fit(X, y, offset=np.log(exposure))
    >>> reg.predict(X[:2], offset=np.log(exposure[:2])).shape
    (2,)
    """
    )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None, offset=None):
        """Fit the Poisson path with cross-validation, choose ``lambda_``, keep its refit network.

        Each fold's epoch is chosen on the other folds, ``lambda_`` on the CV ``measure``
        (see :func:`kerasnet.fit_path` for which rows each choice sees).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Counts (>= 0).
        sample_weight : array-like of shape (n_samples,), default None
            Row weights (scaled to sum to n_samples).
        groups : array-like of shape (n_samples,), default None
            Group labels for the splitter; with an int ``cv``, folds never split a group.
        offset : array-like of shape (n_samples,), default None
            Each row's log exposure (glmnet's ``offset``): the model fits
            ``mu = exp(f(x) + offset)``.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, groups, offset=offset)
