"""kerasnet.search(hypermodel=...): a KerasTuner build(hp) function as a grid of stacked fits."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

import kerasnet
from kerasnet.errors import InputError
from kerasnet.search import search
from kerasnet.search.hyperparameters import GridHyperParameters, hp_grid


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # the model takes X as given
    rows = np.random.default_rng(0).choice(len(y), 180, replace=False)
    return X[rows].astype("float32"), y[rows]


def build(hp, penalized=True):
    l2 = hp.Choice("l2", [1e-3, 1e-2])
    penalty = keras.regularizers.L2(l2) if penalized else None
    model = keras.Sequential([keras.Input((30,)),
                              keras.layers.Dense(hp.Choice("units", [4, 8]), activation="relu",
                                                 kernel_regularizer=penalty),
                              keras.layers.Dropout(hp.Choice("dropout", [0.0, 0.3])),
                              keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=penalty)])
    model.compile(keras.optimizers.Adam(hp.Choice("learning_rate", [1e-3, 1e-2])), "binary_crossentropy")
    return model


# -- the grid -----------------------------------------------------------------------------------

def test_the_grid_is_every_combination_in_kerastuners_order():
    def declare(hp):
        hp.Choice("a", ["x", "y"])
        hp.Int("b", 1, 5, step=2)
        hp.Float("c", 1e-3, 1e-1, step=10, sampling="log")
        hp.Boolean("d")

    grid = hp_grid(declare)
    assert len(grid) == 2 * 3 * 3 * 2
    assert grid[0] == {"a": "x", "b": 1, "c": pytest.approx(1e-3), "d": False}
    assert sorted({g["b"] for g in grid}) == [1, 3, 5]


def test_names_declared_for_some_values_only_are_found_and_not_repeated():
    def layers(hp):
        for i in range(hp.Int("layers", 1, 2)):
            hp.Choice(f"units_{i}", [8, 16])

    grid = hp_grid(layers)
    # 1 layer: 2 widths; 2 layers: 2 x 2 widths. Nothing counted twice.
    assert len(grid) == 6
    assert {"layers": 1, "units_0": 8} in grid and {"layers": 2, "units_0": 16, "units_1": 8} in grid


def test_a_float_without_a_step_has_no_grid():
    with pytest.raises(InputError, match="has no step"):
        hp_grid(lambda hp: hp.Float("lr", 1e-4, 1e-2))
    assert GridHyperParameters({"u": 3}).Choice("u", [1, 2]) == 3  # a set value is the answer


# -- the search ---------------------------------------------------------------------------------

@pytest.mark.backend
def test_values_that_do_not_change_the_structure_share_a_stack(cancer, capsys):
    X, y = cancer
    result = search(X, y, hypermodel=build, seed=0, epochs=4, cv=3)
    err = capsys.readouterr().err
    cv_lines = [line for line in err.splitlines() if line.startswith("CV")]
    # 16 combinations; only the width changes the structure: two stacks of 8 x 3 folds.
    assert len(cv_lines) == 2 and all("24 networks" in line for line in cv_lines)
    assert "structure 1 of 2" in cv_lines[0]
    frame = result.to_frame()
    assert len(frame) == 16 and np.isfinite(frame["cv_deviance"]).all()
    # What each point set per member was read off its model.
    assert set(frame["lambda"]) == {2e-3, 2e-2} and set(frame["l1_ratio"]) == {0.0}
    assert set(frame["learning_rate"].round(6)) == {1e-3, 1e-2} and set(frame["dropout"]) == {0.0, 0.3}
    model = result.model("min")
    assert isinstance(model.layers[0].kernel_regularizer, keras.regularizers.L2)  # your model, as built
    assert model.layers[0].units == result.best_.values["units"]
    np.testing.assert_allclose(model.predict(X[:5], verbose=0), result.outputs(X[:5], "min"))


@pytest.mark.backend
def test_one_combination_is_fit_path_with_that_model(cancer):
    X, y = cancer

    def one(hp):
        hp.Fixed("l2", 1e-2)
        hp.Fixed("units", 6)
        hp.Fixed("dropout", 0.0)
        hp.Fixed("learning_rate", 1e-2)
        return build(hp)

    settings = dict(seed=3, epochs=5, cv=3)
    found = search(X, y, hypermodel=one, verbose=0, **settings)

    def unpenalized():
        return build(GridHyperParameters({"l2": 1e-2, "units": 6, "dropout": 0.0, "learning_rate": 1e-2}),
                     penalized=False)

    path = kerasnet.fit_path(X, y, model=unpenalized, lambdas=[2e-2], l1_ratio=0.0, learning_rate=1e-2,
                             baselines=False, verbose=0, **settings)
    np.testing.assert_allclose(found.cv_values_, path.cv_measures_["deviance"], rtol=1e-4)


def test_a_subclassed_model_and_a_space_beside_it_are_refused(cancer):
    X, y = cancer

    class Own(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1, activation="sigmoid")

        def call(self, x):
            return self.dense(x)

    def subclassed(hp):
        hp.Choice("u", [1])
        model = Own()
        model(np.zeros((1, 30), "float32"))
        return model

    with pytest.raises(InputError, match="subclassed"):
        search(X, y, hypermodel=subclassed, epochs=1, verbose=0)
    with pytest.raises(InputError, match="not both"):
        search(X, y, {"dropout": [0.1]}, hypermodel=build, epochs=1, verbose=0)
