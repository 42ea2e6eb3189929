"""glmnet's penalty.factor and exclude: the engine's weighted elastic net and the path's grid."""

import numpy as np
import pytest
from sklearn.linear_model import Lasso, Ridge
from sklearn.preprocessing import StandardScaler

import kerasnet
from kerasnet import mlp
from kerasnet.path import grid as _grid
from kerasnet.path.engine import fit_members
from kerasnet.path.members import MemberSpec, Training
from kerasnet.path.rows import Rows


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 5)).astype("float32")
    y = (X @ np.array([2.0, -1.0, 0.5, 0.0, 1.0]) + 0.1 * rng.normal(size=60)).astype("float32")
    return X, y


@pytest.mark.backend
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_weighted_lasso_is_sklearns_lasso_on_rescaled_columns():
    """(1/n)|y - Xb|^2 + l1 sum_j f_j |b_j| is sklearn's Lasso(alpha=l1/2) on X_j / f_j; an
    excluded feature (1e30) stays exactly zero."""
    X, y = _data()
    factor = np.array([0.5, 2.0, 1.0, 1.0, 1e30], "float32")
    training = Training("mean_squared_error", epochs=4000, batch_size=60, learning_rate=0.05, optimizer="sgd",
                        proximal=True, penalty_factor=factor)
    weights, _ = fit_members(mlp(5, 1, (), "regression", seed=0), Rows.prepare(X, y), MemberSpec.of([0.3]),
                             training)
    W, b = weights[0]
    free = factor < 1e20
    ref = Lasso(alpha=0.15, tol=1e-12, max_iter=1_000_000).fit(X[:, free] / factor[free], y)
    np.testing.assert_allclose(W[free, 0], ref.coef_ / factor[free], atol=1e-4)
    np.testing.assert_allclose(b[0], ref.intercept_, atol=1e-4)
    assert W[4, 0] == 0


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")  # the unpenalized column, scaled by 1e6
def test_weighted_ridge_is_sklearns_ridge_on_rescaled_columns():
    """(1/n)|y - Xb|^2 + l2 sum_j f_j b_j^2 is sklearn's Ridge(alpha=n l2) on X_j / sqrt(f_j)."""
    X, y = _data(1)
    factor = np.array([0.25, 4.0, 1.0, 0.0, 1.0], "float32")  # feature 3 unpenalized
    training = Training("mean_squared_error", epochs=4000, batch_size=60, learning_rate=0.05, optimizer="sgd",
                        penalty_factor=factor)
    weights, _ = fit_members(mlp(5, 1, (), "regression", seed=0), Rows.prepare(X, y),
                             MemberSpec.of([0.0], [0.2]), training)
    W, b = weights[0]
    scale = np.sqrt(np.where(factor > 0, factor, 1e-12))
    ref = Ridge(alpha=60 * 0.2, tol=1e-12).fit(X / scale, y)
    np.testing.assert_allclose(W[:, 0], ref.coef_ / scale, atol=2e-4)


def test_path_grid_exclusions_and_glmnets_rescaling():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 6))
    y = X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=120)
    path = kerasnet.fit_path(X, y, hidden=(), l1_ratio=1.0, n_lambdas=4, cv=3, epochs=3, seed=0, verbose=0,
                             penalty_factor=[2.0, 1.0, 1.0, 1.0, 1.0, 0.5], exclude=[2])
    # glmnet: the excluded feature counts as 1, then the factors sum to the number of features.
    expected = np.array([2.0, 1.0, 1.0, 1.0, 1.0, 0.5]) * 6 / 6.5
    np.testing.assert_allclose(path.penalty_factor_[[0, 1, 3, 4, 5]], expected[[0, 1, 3, 4, 5]])
    assert path.penalty_factor_[2] >= 1e20
    # lambda_max: glmnet's max_j |g_j| / vp_j over the features not excluded.
    Xs = StandardScaler().fit_transform(X)
    ys = (y - y.mean()) / y.std()
    g = np.abs(_grid.null_gradient(Xs, ys, "regression"))[:, 0]
    keep = [0, 1, 3, 4, 5]
    assert path.lambdas_[0] == pytest.approx((g[keep] / expected[keep]).max(), rel=1e-4)
    assert all(w[0][2, 0] == 0 for w in path.weights_)  # excluded at every strength


@pytest.mark.parametrize("kwargs, message", [
    ({"penalty_factor": [1.0, 1.0]}, "one value per feature"),
    ({"penalty_factor": [1.0, -1.0, 1.0]}, ">= 0"),
    ({"penalty_factor": [0.0, 0.0, 0.0]}, "every penalty factor is 0"),
    ({"exclude": ["nope"]}, "exclude names a feature"),
    ({"exclude": [0, 1, 2]}, "leaves no feature"),
])
def test_bad_penalty_factors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kerasnet.fit_path(np.random.default_rng(0).normal(size=(30, 3)), np.arange(30.0), verbose=0, **kwargs)


def test_cv_estimator_passes_penalty_factor_and_leaves_an_excluded_feature_out():
    from sklearn.base import clone

    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 4))
    y = 2 * X[:, 0] + X[:, 1] + 0.1 * rng.normal(size=90)
    reg = kerasnet.ElasticNetMLPRegressorCV((4,), n_lambdas=3, cv=3, max_iter=5, random_state=0,
                                            penalty_factor=[1.0, 1.0, 1.0, np.inf]).fit(X, y)
    assert reg.path_.penalty_factor_[3] >= 1e20
    assert np.all(reg.model_.layers[0].get_weights()[0][3] == 0)  # the raw-input model_: row 3 out
    assert clone(reg).get_params()["penalty_factor"] == [1.0, 1.0, 1.0, np.inf]


def test_feature_selection_keeps_an_excluded_feature_out_and_an_unpenalized_one_in():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 6))
    y = (X[:, 0] + X[:, 1] + 0.3 * rng.normal(size=200) > 0).astype(int)
    path = kerasnet.fit_path(X, y, hidden=(8,), feature_selection=True, n_lambdas=5, cv=3, epochs=30,
                             learning_rate=1e-2, seed=0, verbose=0, penalty_factor=[1, 1, 1, 1, 0, np.inf])
    assert np.all(path.feature_path_[:, 5] == 0)  # excluded: out at every strength
    assert np.all(path.feature_path_[:, 4] > 0)  # unpenalized: in at every strength, even the strongest
    kept = (path.feature_path_[:, :4] > 0).sum(axis=1)
    assert kept[0] < kept[-1]  # the penalized features still enter along the path
