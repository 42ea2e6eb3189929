"""One set of defaults for fit_path and the CV estimators; the epoch budget early stopping ends."""

import inspect

import numpy as np
import pytest
from sklearn.base import clone

from kerasnet import fit_path
from kerasnet.estimators import cv as cv_module
from kerasnet.path import defaults
from kerasnet.sklearn import (
    ElasticNetMLPClassifier,
    ElasticNetMLPClassifierCV,
    ElasticNetMLPPoissonRegressorCV,
    ElasticNetMLPRegressor,
    ElasticNetMLPRegressorCV,
)

# The estimators' scikit-learn names for fit_path's arguments.
NAMES = {"hidden_layer_sizes": "hidden", "l1_ratio": "l1_ratio", "n_lambdas": "n_lambdas",
         "lambda_min_ratio": "lambda_min_ratio", "cv": "cv", "batch_size": "batch_size",
         "learning_rate_init": "learning_rate", "max_iter": "epochs", "n_iter_no_change": "patience",
         "early_stopping": "early_stopping", "standardize": "standardize", "measure": "measure"}


def _path_defaults():
    return {name: p.default for name, p in inspect.signature(fit_path).parameters.items()}


@pytest.mark.parametrize("estimator", [ElasticNetMLPClassifierCV, ElasticNetMLPRegressorCV,
                                       ElasticNetMLPPoissonRegressorCV])
def test_cv_estimators_take_fit_paths_defaults(estimator):
    ours, theirs = estimator().get_params(), _path_defaults()
    for name, path_name in NAMES.items():
        assert ours[name] == theirs[path_name], name
    # scikit-learn's convention: clone keeps every default as given.
    assert clone(estimator()).get_params() == ours


def test_one_strength_estimators_take_the_network_and_batch_defaults():
    theirs = _path_defaults()
    for estimator in (ElasticNetMLPClassifier, ElasticNetMLPRegressor):
        params = estimator().get_params()
        assert params["hidden_layer_sizes"] == theirs["hidden"] == (64, 64)
        assert params["batch_size"] == theirs["batch_size"] == 32


def test_a_default_estimator_calls_fit_path_with_its_defaults(monkeypatch):
    """What the estimator hands fit_path, with no arguments, is what fit_path would use."""
    seen = {}

    class Stop(Exception):
        pass

    def spy(X, y, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(cv_module, "fit_path", spy)
    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 2
    with pytest.raises(Stop):
        ElasticNetMLPClassifierCV().fit(X, y)
    theirs = _path_defaults()
    for path_name in ("hidden", "l1_ratio", "n_lambdas", "lambda_min_ratio", "cv", "epochs", "batch_size",
                      "learning_rate", "patience", "early_stopping"):
        assert seen[path_name] == theirs[path_name], path_name


def test_epoch_budget_rule():
    assert defaults.epoch_budget(None) == defaults.MAX_EPOCHS > defaults.EPOCHS
    assert defaults.epoch_budget(None, early_stopping=False) == defaults.EPOCHS
    assert defaults.epoch_budget(7) == 7 and defaults.epoch_budget(7, early_stopping=False) == 7
    # An explicit cap keeps Keras's rule (any decrease is progress); only None adds the tolerance.
    assert defaults.stall_tolerance(7) == 0.0 and defaults.stall_tolerance(None) == defaults.MIN_DELTA > 0


def _task():
    # A smooth low-noise target a small network is still learning after a few epochs.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    return X, np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.1 * rng.normal(size=64)


# baselines=False: the network path's own epoch budget (the linear baseline trains a fixed count).
FIT = dict(hidden=(4,), lambdas=[1e-2, 1e-4], cv=2, learning_rate=0.01, batch_size=8, seed=0, verbose=0,
           baselines=False)


def test_auto_budget_trains_past_the_base_and_early_stopping_ends_it(monkeypatch):
    X, y = _task()
    base = 10
    capped = fit_path(X, y, epochs=base, **FIT).history_["cv"]
    # At the base budget every strength is still improving: the cap ended every member, at its best.
    assert (capped.epochs_trained == base).all()
    assert (capped.best_epoch == base).all()
    monkeypatch.setattr(defaults, "MAX_EPOCHS", 300)
    auto = fit_path(X, y, epochs=None, **FIT).history_["cv"]
    # More epochs than the base, and every member stopped by its stalled cross-fit curves before
    # the hard cap; the loop itself ended there (no epoch after the last member stopped).
    assert auto.epochs_trained.max() > base
    assert (auto.epochs_trained < 300).all()
    assert len(auto.loss) == auto.epochs_trained.max()
    # The folds of one strength stop together (their leave-one-out curves decide), strengths apart.
    trained = auto.epochs_trained.reshape(2, 2)
    assert (trained[:, 0] == trained[:, 1]).all()


def test_explicit_epochs_keep_their_meaning():
    X, y = _task()
    fixed = fit_path(X, y, epochs=12, early_stopping=False, **FIT)
    assert (fixed.history_["cv"].epochs_trained == 12).all()
    assert (fixed.refit_epochs_ == 12).all()
    # epochs=None without early stopping is the base budget: the same fit as epochs=EPOCHS.
    none = fit_path(X, y, epochs=None, early_stopping=False, **{**FIT, "lambdas": [1e-2]})
    assert (none.history_["cv"].epochs_trained == defaults.EPOCHS).all()
