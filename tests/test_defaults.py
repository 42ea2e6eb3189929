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
        # fit_path's None is the row-count rule, which is 32 on the tables the one-strength fits see.
        assert theirs["batch_size"] is None
        assert params["batch_size"] == defaults.BATCH_SIZE == defaults.batch_size_for(10_000) == 32


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
    # On a table's fold rows: MAX_STEPS steps in whole epochs, between EPOCHS and MAX_EPOCHS.
    assert defaults.epoch_budget(None, True, 455, 32) == defaults.MAX_EPOCHS
    assert defaults.epoch_budget(None, True, 80_000, 128) == 160  # 625 steps an epoch
    assert defaults.epoch_budget(None, True, 10**8, 4096) == defaults.EPOCHS
    assert defaults.epoch_budget(None, False, 80_000, 128) == defaults.EPOCHS
    assert defaults.epoch_budget(12, True, 80_000, 128) == 12
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


def test_batch_size_rule_keeps_32_on_small_tables_and_an_epoch_in_its_band_above():
    assert [defaults.batch_size_for(n) for n in (1, 569, 100_000, 131_071)] == [32, 32, 32, 32]
    sizes = [defaults.batch_size_for(n) for n in range(131_072, 2**23, 9973)]
    for n, size in zip(range(131_072, 2**23, 9973), sizes, strict=True):
        assert size & (size - 1) == 0  # a power of two
        assert defaults.STEPS_PER_EPOCH <= n / size < 2 * defaults.STEPS_PER_EPOCH, n
    assert sizes == sorted(sizes)
    assert defaults.batch_size_for(10**9) == defaults.MAX_BATCH_SIZE


def test_patience_rule_is_steps_in_whole_epochs_between_its_bounds():
    assert defaults.patience_for(455, 32) == defaults.PATIENCE  # 15 steps an epoch: noisy, small
    assert defaults.patience_for(200 * 32, 32) == defaults.PATIENCE  # 200 steps: still 10
    assert defaults.patience_for(223 * 32, 32) == defaults.PATIENCE - 1  # 2000 / 223 steps: 9 epochs
    assert defaults.patience_for(8_000, 32) == 8  # 250 steps an epoch
    assert defaults.patience_for(80_000, 128) == defaults.MIN_PATIENCE  # 625 steps: 4 epochs, raised
    assert defaults.patience_for(3_000, 10) == 7  # 300 steps an epoch
    assert defaults.patience_for(10**7, 32) == defaults.MIN_PATIENCE


def test_fit_path_uses_and_records_the_rules(monkeypatch):
    from kerasnet.path import fit as fit_module

    seen = []
    real = fit_module.Training

    def spy(*args, **kwargs):
        seen.append(args[2])  # the batch size the engine trains with
        return real(*args, **kwargs)

    monkeypatch.setattr(fit_module, "Training", spy)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    small = dict(hidden=(4,), lambdas=[1e-2, 1e-3], cv=3, epochs=2, seed=0, verbose=0, baselines=False)
    path = fit_path(X, y, **small)
    assert (path.batch_size_, path.patience_, path.max_epochs_) == (32, defaults.PATIENCE, 2)
    assert seen == [32]
    # A smaller quantum stands in for a large table: 300 rows are then "many".
    monkeypatch.setattr(defaults, "STEPS_PER_EPOCH", 2)
    monkeypatch.setattr(defaults, "PATIENCE_STEPS", 3)
    path = fit_path(X, y, **small)
    assert path.batch_size_ == 128 and seen[-1] == 128
    assert path.patience_ == defaults.MIN_PATIENCE  # 2 steps an epoch on a fold's 200 rows
    path = fit_path(X, y, batch_size=16, patience=5, **small)
    assert (path.batch_size_, path.patience_) == (16, 5) and seen[-1] == 16
