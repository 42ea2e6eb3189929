"""kerasnet.search: a space of settings cross-validated in one stacked fit per depth."""

import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.datasets import load_breast_cancer

import kerasnet
from kerasnet.errors import InputError
from kerasnet.search import search
from kerasnet.search.result import SearchResult
from kerasnet.search.space import Config, configurations, simplicity


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    rows = rng.choice(len(y), 200, replace=False)
    return X[rows], y[rows]


# -- the space --------------------------------------------------------------------------------

def test_the_grid_is_every_combination_with_defaults_for_the_rest():
    configs = configurations({"dropout": [0, 0.2], "hidden": [(16,), 32]})
    assert len(configs) == 4
    assert {c.hidden for c in configs} == {(16,), (32,)} and {c.dropout for c in configs} == {0.0, 0.2}
    assert all(c.lam is None and c.l1_ratio == 0.5 and c.learning_rate == 1e-3 for c in configs)
    assert configurations({"hidden": (64, 64)}) == [Config(None, 0.5, 1e-3, 0.0, (64, 64))]  # a tuple is one


def test_a_sample_draws_n_iter_configurations_reproducibly():
    space = {"learning_rate": loguniform(1e-4, 1e-2), "dropout": [0.0, 0.1, 0.3]}
    first, again = configurations(space, n_iter=5, seed=3), configurations(space, n_iter=5, seed=3)
    assert first == again and len(first) == 5
    assert all(1e-4 <= c.learning_rate <= 1e-2 for c in first)
    with pytest.raises(InputError, match="needs n_iter"):
        configurations(space)


@pytest.mark.parametrize("space, words", [
    ({"units": [8]}, "does not vary"),
    ({"dropout": [1.0]}, r"dropout in the space must be in \[0, 1\)"),
    ({"l1_ratio": [1.5]}, r"in \[0, 1\]"),
    ({"learning_rate": [0]}, "> 0"),
    ({"lambda": [float("nan")]}, "finite number"),
    ({"hidden": [()]}, "linear model"),
    ({"hidden": []}, "no value for hidden"),
    ([("dropout", 0.1)], "must be a dict"),
])
def test_a_bad_space_is_one_line_naming_the_fix(space, words):
    with pytest.raises(InputError, match=words) as caught:
        configurations(space)
    assert "\n" not in str(caught.value)


def test_simplicity_prefers_narrow_then_dropout_then_strong_penalty():
    points = [Config(0.1, 0.5, 1e-3, 0.0, (64,)), Config(0.01, 0.5, 1e-3, 0.0, (16,)),
              Config(0.01, 0.5, 1e-3, 0.2, (16,)), Config(0.1, 0.5, 1e-3, 0.2, (16,))]
    assert sorted(points, key=simplicity) == [points[3], points[2], points[1], points[0]]


# -- the choices on known numbers -------------------------------------------------------------

def _result(values, points, measure="deviance"):
    values = np.asarray(values, float)
    plan = SimpleNamespace(task="binary", measure=measure, F=values.shape[1],
                           fold_weights=np.ones(values.shape[1]))
    from kerasnet.path.grid import cv_summary

    scored = {"values": {measure: values}, "epochs": np.ones(len(values), int),
              "summary": cv_summary(values, weights=np.ones(values.shape[1]))}
    return SearchResult(points, scored, plan, np.array([0, 1]), ["a", "b"], len(points), None)


def test_best_simplest_and_optimism_follow_their_rules():
    points = [Config(0.01, 0.5, 1e-3, 0.0, (64,)), Config(0.01, 0.5, 1e-3, 0.0, (16,)),
              Config(0.01, 0.5, 1e-3, 0.0, (8,))]
    #          fold:  1    2    3
    values = [[1.0, 1.0, 1.3],   # mean 1.1, the best
              [1.1, 1.2, 1.2],   # 1.1667, within one SE (0.1) of the best
              [1.5, 0.9, 1.8]]   # 1.4
    result = _result(values, points)
    assert result.best_index_ == 0 and result.simplest_index_ == 1
    # Tibshirani and Tibshirani: the best's score minus each fold's best score, averaged.
    assert result.optimism_ == pytest.approx(np.mean([1.0 - 1.0, 1.0 - 0.9, 1.3 - 1.2]))
    assert "point 1" in result.conclusion() and "0.0667 higher" in result.conclusion()


def test_greater_is_better_measures_choose_the_largest():
    points = [Config(0.01, 0.5, 1e-3, 0.0, (64,)), Config(0.01, 0.5, 1e-3, 0.0, (8,))]
    result = _result([[0.9, 0.92, 0.91], [0.5, 0.6, 0.55]], points, measure="auc")
    assert result.best_index_ == 0 and result.simplest_index_ == 0
    assert result.optimism_ == 0.0


# -- the search itself ------------------------------------------------------------------------

@pytest.mark.backend
def test_one_configuration_is_fit_path_exactly(cancer):
    X, y = cancer
    lambdas = [0.05, 0.01, 0.002]
    settings = dict(seed=0, epochs=6, cv=3)
    found = search(X, y, {"lambda": lambdas, "hidden": [(8,)], "learning_rate": [3e-3]}, verbose=0,
                   **settings)
    path = kerasnet.fit_path(X, y, lambdas=lambdas, hidden=(8,), learning_rate=3e-3, baselines=False,
                             verbose=0, **settings)
    np.testing.assert_allclose(found.cv_values_, path.cv_measures_["deviance"], rtol=1e-4)
    np.testing.assert_allclose(found.cv_mean_, path.cv_mean_, rtol=1e-4)
    lam = found.best_.lam
    np.testing.assert_allclose(found.outputs(X, "min"), path.model(lam).predict(X, verbose=0), rtol=1e-4,
                               atol=1e-6)


@pytest.mark.backend
def test_every_configuration_trains_in_one_fit_per_depth_and_each_is_scored(cancer, capsys):
    X, y = cancer
    space = {"lambda": [1e-2], "dropout": [0.0, 0.3], "hidden": [(4,), (12,), (6, 3)],
             "learning_rate": [1e-3, 1e-2]}
    result = search(X, y, space, seed=1, epochs=5, cv=3)
    lines = capsys.readouterr().err.splitlines()
    cv_lines = [line for line in lines if line.startswith("CV")]
    assert len(cv_lines) == 2  # one stacked fit per depth, each with all its configurations
    assert "8 networks" not in cv_lines[0] and "24 networks" in cv_lines[0] and "12 networks" in cv_lines[1]
    frame = result.to_frame()
    assert len(frame) == 12 and np.isfinite(frame["cv_deviance"]).all()
    assert frame["selected"].str.contains("min").sum() == 1
    # The learning rate made a difference in the same fit: 5 epochs at 1e-2 beat 1e-3.
    slow = frame[(frame.learning_rate == 1e-3)]["cv_deviance"].mean()
    fast = frame[(frame.learning_rate == 1e-2)]["cv_deviance"].mean()
    assert fast < slow


@pytest.mark.backend
def test_the_chosen_model_is_plain_keras_and_loads_in_safe_mode_in_a_fresh_process(cancer, tmp_path):
    X, y = cancer
    result = search(X, y, {"lambda": [1e-2], "dropout": [0.0, 0.2], "hidden": [(4,), (8,)]}, seed=0, epochs=4,
                    cv=3, verbose=0)
    model = result.model()
    widths = [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert widths == [result.simplest_.hidden[0], 1]
    dropping = any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    assert dropping == (result.simplest_.dropout > 0)
    path = tmp_path / "chosen.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", X[:9].astype("float32"))
    script = textwrap.dedent(f"""
        import sys, numpy as np, keras
        model = keras.saving.load_model({str(path)!r}, safe_mode=True)
        np.save({str(tmp_path / "y.npy")!r}, model.predict(np.load({str(tmp_path / "x.npy")!r}), verbose=0))
        assert not any(m.startswith("kerasnet") for m in sys.modules)
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KERAS_BACKEND": keras.backend.backend()})
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), result.outputs(X[:9]), rtol=1e-6)
    assert set(result.predict(X[:9])) <= {0, 1}


def test_nested_cv_on_pure_noise_is_honest():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(150, 6))
    y = rng.integers(0, 2, 150)
    space = {"lambda": [1e-1, 1e-2, 1e-3], "hidden": [(4,), (16,)], "learning_rate": [1e-2]}
    result = search(X, y, space, seed=2, epochs=15, cv=3, nested=3, verbose=0)
    null = 2 * np.log(2)  # the deviance of a fair coin
    nested = result.nested_
    assert len(nested["folds"]) == 3 and len(nested["chosen"]) == 3
    # Nothing can be learned: the honest estimate is no better than the coin, within its noise,
    # while the best of six CV means is optimistic (lower than the nested estimate).
    assert nested["mean"] > null - 2 * nested["se"] - 0.05
    assert result.cv_mean_[result.best_index_] < nested["mean"]
    assert result.optimism_ > 0
    assert "Nested CV (3 outer folds" in str(result)


def test_a_poisson_task_is_sent_to_fit_path():
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(InputError, match="use kerasnet.fit_path"):
        search(X, np.arange(40) % 5, {"lambda": [0.1]}, task="poisson", epochs=2, verbose=0)


@pytest.mark.backend
def test_dominated_points_stop_early_without_changing_the_choice():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    # The strong penalty creeps towards the null model for hundreds of epochs unless dominance stops it.
    space = {"lambda": [1e-3, 0.05], "hidden": [(4,)], "learning_rate": [1e-3]}
    on = search(X, y, space, seed=0, cv=3, verbose=0)
    off = search(X, y, space, seed=0, cv=3, verbose=0, stop_dominated=False)
    assert on.best_index_ == off.best_index_ == 0 and on.simplest_index_ == off.simplest_index_
    # The hopeless strength (near the null model) stopped sooner; the winner trained as before.
    assert on.epochs_trained_[1].sum() < off.epochs_trained_[1].sum()
    np.testing.assert_array_equal(on.epochs_trained_[0], off.epochs_trained_[0])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["breast_cancer", "wine", "diabetes"])
def test_stopping_dominated_points_keeps_the_choices_on_the_bundled_tables(name):
    from sklearn import datasets

    X, y = getattr(datasets, "load_" + name)(return_X_y=True)
    space = {"lambda": [1e-3, 1e-2, 1e-1], "dropout": [0.0, 0.2], "hidden": [(16,), (64,)]}
    on = search(X, y, space, seed=0, verbose=0)
    off = search(X, y, space, seed=0, verbose=0, stop_dominated=False)
    assert (on.best_index_, on.simplest_index_) == (off.best_index_, off.simplest_index_)
    assert on.epochs_trained_.sum() <= off.epochs_trained_.sum()
    # The chosen points were never stopped as dominated: their CV means are as without the rule.
    chosen = [on.best_index_, on.simplest_index_]
    np.testing.assert_allclose(on.cv_mean_[chosen], off.cv_mean_[chosen], rtol=1e-6)
