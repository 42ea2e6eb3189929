"""task="poisson": counts with a log link and an offset, against scikit-learn's PoissonRegressor."""

import numpy as np
import pytest
from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import mean_poisson_deviance
from sklearn.preprocessing import StandardScaler

import kerasnet
from kerasnet.path import measures


def _counts(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    exposure = rng.uniform(0.5, 3.0, size=n)
    y = rng.poisson(exposure * np.exp(0.5 + 0.6 * X[:, 0] - 0.4 * X[:, 1])).astype(float)
    return X, y, exposure


def _ridge(X, y, lam, offset=None):
    return kerasnet.fit_path(X, y, task="poisson", hidden=(), l1_ratio=0.0, lambdas=[lam], cv=2, epochs=2000,
                             batch_size=len(y), learning_rate=0.05, early_stopping=False, seed=0, verbose=0,
                             offset=offset)


def test_poisson_ridge_is_sklearns_poisson_regressor_and_dev_ratio_its_d2():
    """mean(mu - y log mu) + lam/2 |b|^2 is sklearn's 1/(2n) sum deviance + alpha/2 |b|^2 at alpha = lam."""
    X, y, _ = _counts()
    path = _ridge(X, y, 0.05)
    Xs = StandardScaler().fit_transform(X)
    ref = PoissonRegressor(alpha=0.05, tol=1e-12, max_iter=10_000).fit(Xs, y)
    W, b = path.weights_[0]
    np.testing.assert_allclose(W[:, 0], ref.coef_, atol=2e-4)
    np.testing.assert_allclose(b[0], ref.intercept_, atol=2e-4)
    assert path.dev_ratio_[0] == pytest.approx(ref.score(Xs, y), abs=1e-4)  # sklearn's D^2
    np.testing.assert_allclose(path.predict(X[:5]), ref.predict(Xs[:5]), rtol=1e-3)


def test_offset_is_a_rate_model_weighted_by_exposure():
    """With offset log(t) the fit equals sklearn's Poisson regression of y / t weighted by t
    (alpha scaled by the mean exposure, as sklearn divides by the weights' sum)."""
    X, y, t = _counts(seed=1)
    path = _ridge(X, y, 0.05, offset=np.log(t))
    Xs = StandardScaler().fit_transform(X)
    ref = PoissonRegressor(alpha=0.05 / t.mean(), tol=1e-12, max_iter=10_000)
    ref.fit(Xs, y / t, sample_weight=t / t.mean())
    W, b = path.weights_[0]
    np.testing.assert_allclose(W[:, 0], ref.coef_, atol=2e-4)
    np.testing.assert_allclose(b[0], ref.intercept_, atol=2e-4)
    # The model predicts the rate (offset 0); predict(offset=) the mean counts.
    np.testing.assert_allclose(path.predict(X[:5]), ref.predict(Xs[:5]), rtol=1e-3)
    np.testing.assert_allclose(path.predict(X[:5], offset=np.log(t[:5])), t[:5] * ref.predict(Xs[:5]),
                               rtol=1e-3)


def test_lambda_max_of_the_poisson_lasso_is_where_the_fit_is_empty():
    X, y, t = _counts(seed=2)
    path = kerasnet.fit_path(X, y, task="poisson", hidden=(), l1_ratio=1.0, n_lambdas=3, lambda_min_ratio=0.5,
                             cv=2, epochs=1500, batch_size=len(y), learning_rate=0.05, early_stopping=False,
                             proximal=True, seed=0, verbose=0, offset=np.log(t))
    # glmnet's rule with the offset: the null model mu = c t, c = sum(y) / sum(t).
    Xs = StandardScaler().fit_transform(X)
    r = y - y.sum() / t.sum() * t
    assert path.lambdas_[0] == pytest.approx(np.abs(Xs.T @ r).max() / len(y), rel=1e-4)
    # At lambda_max the lasso is empty (to the optimizer's last step), below it not.
    assert np.abs(path.weights_[0][0]).max() < 1e-5 and np.abs(path.weights_[1][0]).max() > 1e-2


def test_poisson_deviance_measure_is_sklearns():
    rng = np.random.default_rng(3)
    y = rng.poisson(2.0, size=50).astype(float)
    mu = rng.uniform(0.5, 4.0, size=50)
    values = measures.per_row("deviance", "poisson", y, mu[:, None])
    assert values.mean() == pytest.approx(mean_poisson_deviance(y, mu), rel=1e-10)


def test_poisson_network_path_and_bad_input():
    X, y, t = _counts(seed=4)
    path = kerasnet.fit_path(X, y, task="poisson", hidden=(8,), offset=np.log(t), n_lambdas=4, cv=3,
                             epochs=30, seed=0, verbose=0)
    assert set(path.cv_measures_) == {"deviance", "mse", "mae"}
    assert path.dev_ratio_[path.index_min_] > 0.3 and np.all(path.predict(X[:10]) > 0)
    with pytest.raises(ValueError, match="non-negative count"):
        kerasnet.fit_path(X, -y, task="poisson", verbose=0)
    with pytest.raises(ValueError, match="log exposure of task='poisson'"):
        kerasnet.fit_path(X, y, task="regression", offset=np.log(t), verbose=0)
    with pytest.raises(ValueError, match="one finite log exposure per row"):
        kerasnet.fit_path(X, y, task="poisson", offset=np.log(t[:10]), verbose=0)


@pytest.mark.backend
def test_poisson_estimator_is_sklearns_poisson_regressor_with_and_without_offset():
    """The linear ridge through the estimator (raw inputs: standardization folded into model_)."""
    from sklearn.pipeline import make_pipeline

    from kerasnet.sklearn import ElasticNetMLPPoissonRegressorCV

    X, y, exposure = _counts()
    settings = dict(hidden_layer_sizes=(), l1_ratio=0.0, lambdas=[0.05], cv=2, max_iter=2000,
                    batch_size=len(y), learning_rate_init=0.05, early_stopping=False, random_state=0)
    reg = ElasticNetMLPPoissonRegressorCV(**settings).fit(X, y)
    ref = make_pipeline(StandardScaler(), PoissonRegressor(alpha=0.05, tol=1e-12, max_iter=10_000)).fit(X, y)
    np.testing.assert_allclose(reg.predict(X), ref.predict(X), rtol=2e-3)
    assert reg.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-4)  # D^2, as sklearn's score
    assert reg.lambda_ == 0.05 and reg.model_.layers[-1].get_config()["activation"] == "exponential"

    # offset log(t): sklearn's rate regression y/t weighted by t, at alpha / mean(t)
    offset = np.log(exposure)
    reg = ElasticNetMLPPoissonRegressorCV(**settings).fit(X, y, offset=offset)
    scaler = StandardScaler().fit(X)
    rate = PoissonRegressor(alpha=0.05 / exposure.mean(), tol=1e-12, max_iter=10_000)
    rate.fit(scaler.transform(X), y / exposure, sample_weight=exposure)
    np.testing.assert_allclose(reg.predict(X), rate.predict(scaler.transform(X)), rtol=2e-3)
    np.testing.assert_allclose(reg.predict(X, offset=offset), reg.predict(X) * exposure, rtol=1e-12)
    with pytest.raises(ValueError, match="counts y >= 0"):
        ElasticNetMLPPoissonRegressorCV(**settings).fit(X, y - 1)
    with pytest.raises(ValueError, match="one finite log exposure per row"):
        reg.predict(X, offset=offset[:-1])
