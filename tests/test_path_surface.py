"""A path as a user meets it: ``plot`` on pyplot or given axes, saved models that load in plain
Keras without a warning, and a ``Df`` that means something for any network."""

import io
import json
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # before pyplot: the tests draw and save without a display

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from kerasnet import PathDisplay, fit_path  # noqa: E402
from kerasnet.path.df import rows_are_features  # noqa: E402


def _data(n=40, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype("float32")
    return X, (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=n) > 0).astype(int)


@pytest.fixture(scope="module")
def path():
    X, y = _data()
    # baselines=False: the surface of the network's path (tests/test_baselines.py: the baselines)
    return fit_path(X, y, hidden=(4,), n_lambdas=4, epochs=3, cv=2, verbose=0, seed=0, baselines=False)


@pytest.fixture(autouse=True)
def _no_figures_left():
    plt.close("all")
    yield
    plt.close("all")


# --------------------------------------------------------------------------- plot


def test_plot_draws_on_pyplot_so_savefig_writes_the_path(path):
    display = path.plot()
    assert isinstance(display, PathDisplay) and plt.gcf() is display.figure_
    assert display.n_panels == 3 and len(display.ax_) == 3  # the MLP's first layer: a feature path too
    assert all(a.figure is display.figure_ for a in display.ax_)
    assert display.ax_[1].lines and len(display.ax_[2].lines) >= path.feature_path_.shape[1]
    buf = io.BytesIO()
    plt.savefig(buf, format="png")  # the user's call: pyplot's current figure is the path's
    buf.seek(0)
    pixels = plt.imread(buf)
    assert pixels.shape[0] > 100 and len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 10


def test_plot_uses_the_users_empty_figure_and_leaves_a_full_one_alone(path):
    empty = plt.figure(figsize=(9, 3))
    assert path.plot().figure_ is empty and len(empty.axes) >= 3
    display = path.plot()  # the current figure has axes now: a new pyplot figure
    assert display.figure_ is not empty and plt.gcf() is display.figure_ and len(plt.get_fignums()) == 2


def test_plot_draws_on_the_given_axes(path):
    fig, axes = plt.subplots(2, 3)
    display = path.plot(ax=axes[1])
    assert display.figure_ is fig and list(display.ax_) == list(axes[1])
    assert all(a.lines for a in axes[1]) and not any(a.lines for a in axes[0])  # row 0 untouched
    detached = Figure()
    count = len(plt.get_fignums())
    assert path.plot(ax=detached).figure_ is detached and len(plt.get_fignums()) == count


@pytest.mark.parametrize("count", [1, 2, 4])
def test_plot_refuses_axes_of_the_wrong_count(path, count):
    axes = plt.subplots(1, count)[1]
    message = (r"^ax must be None, a Figure or 3 matplotlib Axes \(this path draws 3 panels\); "
               rf"received {count} Axes\. Pass e\.g\. ax=plt\.subplots\(1, 3\)\[1\]\.$")
    with pytest.raises(ValueError, match=message):
        path.plot(ax=axes)
    assert not any(a.lines for a in np.atleast_1d(axes))  # nothing drawn before the refusal
    message = r"^ax must be None, a Figure or 3 matplotlib Axes .* received 'left'\. Pass"
    with pytest.raises(ValueError, match=message):
        path.plot(ax="left")


# --------------------------------------------------------------------------- saved models

LOAD = """
import sys, warnings
warnings.simplefilter("error")  # Keras's optimizer message is a warnings.warn: it fails the load
import kerasnet, keras, numpy as np
for file, X, expected in zip(sys.argv[1::3], sys.argv[2::3], sys.argv[3::3]):
    model = keras.saving.load_model(file, safe_mode=True)
    np.testing.assert_allclose(model.predict(np.load(X), verbose=0), np.load(expected), rtol=1e-5, atol=1e-6)
    assert len(model.optimizer.variables) > 2, "compiled with its optimizer state"
print("loaded", len(sys.argv) // 3)
"""


def _load_in_a_fresh_process(*triples):
    files = [str(a) for triple in triples for a in triple]
    result = subprocess.run([sys.executable, "-W", "error", "-c", LOAD, *files], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == f"loaded {len(triples)}", result.stderr
    assert "warn" not in result.stderr.lower() and "skipping" not in result.stderr.lower(), result.stderr


def _saved_path_model(path, tmp_path):
    X, _ = _data(seed=1)
    model = path.model("min")
    assert len(model.optimizer.variables) > 2  # compiled, its Adam built for the weights it trains
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", model.predict(X, verbose=0))
    return tmp_path / "model.keras", tmp_path / "X.npy", tmp_path / "expected.npy"


def test_a_saved_path_model_loads_in_plain_keras_without_a_warning(path, tmp_path):
    _load_in_a_fresh_process(_saved_path_model(path, tmp_path))


@pytest.mark.slow
def test_saved_models_load_in_plain_keras_without_a_warning(path, tmp_path):
    from click.testing import CliRunner

    from kerasnet.cli.path import command

    X, y = _data(seed=1)
    saved = _saved_path_model(path, tmp_path)
    # A command's run folder: its model.keras, on the run's encoded features.
    table = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    table["label"] = np.where(y, "yes", "no")
    table.to_csv(tmp_path / "train.csv", index=False)
    run = tmp_path / "run"
    flags = ["--n-lambdas", "3", "--epochs", "2", "--cv", "2", "--hidden", "4", "--out", str(run)]
    result = CliRunner().invoke(command, [str(tmp_path / "train.csv"), "--target", "label", *flags])
    assert result.exit_code == 0, result.output
    from kerasnet.data import Preprocessor

    features = Preprocessor.load(run / "preprocessing.json").transform(table.drop(columns="label"))
    np.save(tmp_path / "F.npy", features)
    loaded = keras.saving.load_model(run / "model.keras")  # here, after import kerasnet
    np.save(tmp_path / "run_expected.npy", loaded.predict(features, verbose=0))
    assert json.loads((run / "metrics.json").read_text())["kind"] == "path"
    _load_in_a_fresh_process(saved, (run / "model.keras", tmp_path / "F.npy", tmp_path / "run_expected.npy"))


# --------------------------------------------------------------------------- Df


def _first_kernel(model):
    dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    return next(i for i, w in enumerate(model.weights) if w is dense.kernel)


def test_rows_are_features_only_for_a_dense_reading_the_inputs():
    sequential = keras.Sequential([keras.Input((5,)), keras.layers.Normalization(mean=0.0, variance=1.0),
                                   keras.layers.Dropout(0.1), keras.layers.Dense(3), keras.layers.Dense(1)])
    assert rows_are_features(sequential, _first_kernel(sequential))  # featurewise layers before the Dense
    last = len(sequential.weights) - 2  # the output layer's kernel: it reads the hidden units
    assert sequential.weights[last].shape == (3, 1) and not rows_are_features(sequential, last)
    series = keras.Input((6, 2))
    flat = keras.Model(series, keras.layers.Dense(1)(keras.layers.Flatten()(series)))
    assert not rows_are_features(flat, 0)  # a Dense after Flatten: its rows are (time, channel) pairs
    a, b = keras.Input((3,)), keras.Input((2,))
    two = keras.Model([a, b], keras.layers.Dense(1)(keras.layers.Concatenate()([a, b])))
    assert not rows_are_features(two, 0)
    mixed = keras.Sequential([keras.Input((5,)), keras.layers.LayerNormalization(), keras.layers.Dense(1)])
    assert not rows_are_features(mixed, _first_kernel(mixed))  # LayerNormalization mixes the features


def _nonzero_penalized(model):
    """Nonzero entries of every kernel that carries a penalty in Path.model's plain Keras network."""
    return sum(int(np.count_nonzero(layer.kernel.numpy())) for layer in model.layers
               if getattr(layer, "kernel_regularizer", None) is not None)


def test_df_of_a_users_functional_model_counts_its_features():
    X, y = _data()
    inputs = keras.Input((5,))
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dense(3, activation="relu")(inputs))
    path = fit_path(X, y, model=keras.Model(inputs, outputs), n_lambdas=3, epochs=3, cv=2, verbose=0, seed=0,
                    proximal=True, baselines=False)
    first = path.model("min").layers[1].kernel.numpy()  # the Dense on the inputs, (5, 3)
    assert path.df_name_ == "features"
    assert path.df_[path.index_min_] == int((np.abs(first).sum(axis=1) > 0).sum())
    by_hand = [int((np.abs(w[0]).sum(axis=1) > 0).sum()) for w in path.weights_]  # weights_: kernel first
    np.testing.assert_array_equal(path.summary()["Df (features)"], by_hand)
    assert (path.df_ >= 0).all() and path.df_[-1] > 0
    assert "Df (features)" in str(path)


def test_df_of_a_conv1d_model_counts_its_nonzero_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6, 1)).astype("float32")
    y = (X[:, :3, 0].sum(axis=1) > 0).astype(int)
    series = keras.Input((6, 1))
    hidden = keras.layers.Flatten()(keras.layers.Conv1D(2, 3, activation="relu")(series))
    model = keras.Model(series, keras.layers.Dense(1, activation="sigmoid")(hidden))
    path = fit_path(X, y, model=model, n_lambdas=3, epochs=3, cv=2, verbose=0, seed=0, proximal=True)
    assert path.df_name_ == "nonzero weights" and path.feature_path_ is None
    column = path.summary()["Df (nonzero weights)"]
    assert (column >= 0).all() and "Df (nonzero weights)" in str(path)
    for i, lam in enumerate(path.lambdas_):
        assert column.iloc[i] == _nonzero_penalized(path.model(lam)), lam
    assert column.iloc[-1] > 0
    assert path.plot().n_panels == 2  # no feature path: the CV and the weights' panels
