"""The CV estimators given lists of learning rates, dropout rates and networks: one kerasnet.search."""

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes

from kerasnet.search import search
from kerasnet.sklearn import ElasticNetMLPClassifierCV, ElasticNetMLPRegressorCV


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    rows = np.random.default_rng(0).choice(len(y), 200, replace=False)
    return X[rows], y[rows]


def test_lists_are_one_search_and_the_estimator_keeps_its_choice(cancer):
    X, y = cancer
    clf = ElasticNetMLPClassifierCV([(4,), (8,)], learning_rate_init=[1e-3, 1e-2], dropout=[0.0, 0.25],
                                    n_lambdas=2, max_iter=15, cv=3, random_state=0).fit(X, y)
    found = clf.search_
    assert len(found.points_) == 2 * 2 * 2 * 2 and clf.path_ is None
    chosen = found.points_[found.best_index_]  # selection="min"
    assert clf.best_params_ == chosen.as_dict()
    assert (clf.learning_rate_, clf.dropout_, clf.hidden_layer_sizes_) == (
        chosen.learning_rate, chosen.dropout, chosen.hidden)
    assert clf.lambda_ == chosen.lam and clf.lambda_ in clf.lambdas_
    np.testing.assert_array_equal(clf.cv_mean_, found.cv_mean_)
    # model_ is the plain recipe on raw inputs (standardization folded in), the search's refit.
    assert not any(isinstance(layer, keras.layers.Normalization) for layer in clf.model_.layers)
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(chosen.learning_rate)
    np.testing.assert_allclose(clf.predict_proba(X[:20])[:, 1], found.outputs(X[:20], "min")[:, 0],
                               rtol=1e-4, atol=1e-6)
    # The same as calling kerasnet.search with that space and seed.
    direct = search(X, y, {"l1_ratio": [0.5], "learning_rate": [1e-3, 1e-2], "dropout": [0.0, 0.25],
                           "hidden": [(4,), (8,)]}, n_lambdas=2, epochs=15, cv=3,
                    seed=int(np.random.RandomState(0).randint(0, 2**31 - 1)), verbose=0)
    np.testing.assert_allclose(direct.cv_mean_, found.cv_mean_, rtol=1e-5)


def test_1se_keeps_the_simplest_point_within_one_se_and_groups_hold(cancer):
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:200], y[:200]
    groups = np.arange(len(y)) // 10
    reg = ElasticNetMLPRegressorCV([(4,), (16,)], dropout=0.1, n_lambdas=2, max_iter=15, cv=4,
                                   selection="1se", random_state=1).fit(X, y, groups=groups)
    found = reg.search_
    assert reg.best_params_ == found.points_[found.simplest_index_].as_dict() and reg.dropout_ == 0.1
    np.testing.assert_allclose(reg.predict(X[:5]), found.predict(X[:5], "1se"), rtol=1e-4)
    assert clone(reg).get_params()["hidden_layer_sizes"] == [(4,), (16,)]


@pytest.mark.parametrize("params, words", [
    ({"hidden_layer_sizes": [(4,), 8]}, "hidden_layer_sizes must be one network"),
    ({"dropout": [0.2, 1.0]}, "dropout must be a number in [0, 1)"),
    ({"learning_rate_init": [1e-3, 0.0]}, "learning_rate_init must be positive"),
    ({"dropout": [0.1], "penalty_factor": np.ones(30)}, "drop penalty_factor="),
    ({"dropout": [0.1], "proximal": False}, "drop proximal="),
])
def test_settings_a_search_does_not_take_are_one_line(cancer, params, words):
    X, y = cancer
    with pytest.raises(ValueError) as error:
        ElasticNetMLPClassifierCV(**params, n_lambdas=2, max_iter=2).fit(X, y)
    message = str(error.value)
    assert words in message and "\n" not in message


def test_single_values_keep_the_path(cancer):
    X, y = cancer
    clf = ElasticNetMLPClassifierCV((4,), n_lambdas=3, max_iter=5, random_state=0).fit(X, y)
    assert clf.search_ is None and clf.path_ is not None
    assert clf.best_params_ == {"lambda": clf.lambda_, "l1_ratio": 0.5}


def test_the_poisson_estimator_takes_single_values_only():
    from kerasnet.sklearn import ElasticNetMLPPoissonRegressorCV

    X = np.random.default_rng(0).normal(size=(60, 3))
    y = np.random.default_rng(1).poisson(2.0, size=60)
    with pytest.raises(ValueError, match="give single values and dropout=0") as error:
        ElasticNetMLPPoissonRegressorCV((4,), dropout=0.2, n_lambdas=2, max_iter=2).fit(X, y)
    assert "\n" not in str(error.value)
