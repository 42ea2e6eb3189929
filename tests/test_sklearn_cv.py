"""The CV estimators: measure, sample_weight and groups reach the path, and lambda_ follows them."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import GroupKFold

from kerasnet import ElasticNetMLPClassifierCV, ElasticNetMLPRegressorCV, fit_path
from kerasnet.estimators.base import seed_from

FAST = {"hidden_layer_sizes": (8,), "max_iter": 15, "n_lambdas": 4, "cv": 3, "random_state": 0}


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X[::2], y[::2]


@pytest.mark.parametrize("measure", ["deviance", "auc", "class"])
def test_classifier_chooses_lambda_on_its_measure(cancer, measure):
    X, y = cancer
    clf = ElasticNetMLPClassifierCV(measure=measure, selection="min", **FAST).fit(X, y)
    assert clf.path_.measure == measure
    best = np.nanargmax(clf.cv_mean_) if measure == "auc" else np.nanargmin(clf.cv_mean_)
    assert clf.lambda_ == pytest.approx(clf.lambdas_[best])
    assert set(clf.history_) >= {"cv_deviance", f"cv_{measure}", "refit_epochs"}


def test_regressor_measure_r2_and_bad_measure():
    X, y = load_diabetes(return_X_y=True)
    reg = ElasticNetMLPRegressorCV(measure="r2", selection="min", **FAST).fit(X, y)
    assert reg.lambda_ == pytest.approx(reg.lambdas_[np.nanargmax(reg.cv_mean_)])
    with pytest.raises(ValueError, match="does not apply"):
        ElasticNetMLPRegressorCV(measure="auc", **FAST).fit(X, y)


def test_sample_weight_and_groups_reach_the_path(cancer):
    X, y = cancer
    weight = 1.0 + (np.arange(len(y)) % 3)
    groups = np.arange(len(y)) // 5
    clf = ElasticNetMLPClassifierCV(**{**FAST, "cv": GroupKFold(3)}).fit(X, y, sample_weight=weight,
                                                                          groups=groups)
    path = fit_path(X, y, hidden=(8,), n_lambdas=4, cv=GroupKFold(3), groups=groups, sample_weight=weight,
                    epochs=15, seed=seed_from(0), verbose=0,  # the estimator's batch_size is fit_path's
                    baselines=False)  # as the estimator's own path
    np.testing.assert_allclose(clf.cv_mean_, path.cv_mean_, rtol=1e-5)
    unweighted = ElasticNetMLPClassifierCV(**{**FAST, "cv": GroupKFold(3)}).fit(X, y, groups=groups)
    assert not np.allclose(unweighted.cv_mean_, clf.cv_mean_)


def _dense_builder():
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((30,)), keras.layers.Dense(6, activation="tanh", name="h"),
                             keras.layers.Dense(1, activation="sigmoid", name="out")])


def test_classifier_cv_takes_a_model_builder(cancer):
    import pickle

    X, y = cancer
    X = X / X.max(axis=0)  # the builder's model has no Normalization layer
    clf = ElasticNetMLPClassifierCV(model=_dense_builder, n_lambdas=3, cv=3, max_iter=15, batch_size=32,
                                    learning_rate_init=1e-2, random_state=0).fit(X, y)
    assert [layer.name for layer in clf.model_.layers] == ["h", "out"]
    assert clf.model_.get_layer("h").kernel_regularizer.l1 == pytest.approx(clf.lambda_ * 0.5)
    assert clf.lambda_ in clf.lambdas_ and clf.path_.architecture is _dense_builder
    proba = clf.predict_proba(X[:7])
    np.testing.assert_allclose(proba[:, 1], clf.model_.predict(X[:7].astype("float32"), verbose=0)[:, 0],
                               rtol=1e-5, atol=1e-6)
    assert (clf.predict(X) == y).mean() > 0.8
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X[:7]), proba, rtol=1e-6)
