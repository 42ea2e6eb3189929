"""mlp() is exactly the seed recipe; compile_for picks loss and metrics; Ridge equivalence."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

import kerasnet
from kerasnet.models import to_plain_keras

pytestmark = pytest.mark.backend


def _dense_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def test_every_kernel_penalized_no_bias():
    penalty = kerasnet.ElasticNet(l1=1e-3, l2=1e-2)
    model = kerasnet.mlp(6, hidden=(5, 4), penalty=penalty, seed=0)
    dense = _dense_layers(model)
    assert [d.units for d in dense] == [5, 4, 1]
    for layer in dense:
        assert layer.kernel_regularizer is penalty
        assert layer.bias_regularizer is None
        assert layer.activity_regularizer is None
    # One loss term per kernel, each equal to the penalty of that kernel alone.
    losses = [float(keras.ops.convert_to_numpy(v)) for v in model.losses]
    assert len(losses) == 3
    for loss, layer in zip(losses, dense, strict=True):
        k = keras.ops.convert_to_numpy(layer.kernel)
        assert loss == pytest.approx(1e-3 * np.abs(k).sum() + 1e-2 * (k**2).sum(), rel=1e-5)


@pytest.mark.parametrize(
    "task,n_outputs,activation",
    [("binary", 1, "sigmoid"), ("multiclass", 3, "softmax"), ("regression", 2, "linear")],
)
def test_output_activation_from_task(task, n_outputs, activation):
    model = kerasnet.mlp(4, n_outputs=n_outputs, hidden=(3,), task=task)
    out = _dense_layers(model)[-1]
    assert out.units == n_outputs
    assert out.activation.__name__ == activation
    assert _dense_layers(model)[0].activation.__name__ == "relu"


def test_hidden_empty_is_linear_model():
    model = kerasnet.mlp(4, hidden=(), task="regression")
    assert len(_dense_layers(model)) == 1
    assert model.count_params() == 5


def test_seed_makes_weights_reproducible():
    a = kerasnet.mlp(4, hidden=(8,), seed=3).get_weights()
    b = kerasnet.mlp(4, hidden=(8,), seed=3).get_weights()
    c = kerasnet.mlp(4, hidden=(8,), seed=4).get_weights()
    for wa, wb in zip(a, b, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a[0], c[0])


def test_dropout_layers():
    model = kerasnet.mlp(4, hidden=(8, 8), dropout=0.25, seed=0)
    drops = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert [d.rate for d in drops] == [0.25, 0.25]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"n_inputs": 0}, "n_inputs"),
        ({"n_inputs": 3, "task": "ranking"}, "task"),
        ({"n_inputs": 3, "hidden": (4, -1)}, "hidden"),
        ({"n_inputs": 3, "hidden": 5}, "hidden"),
        ({"n_inputs": 3, "penalty": 0.1}, "penalty"),
        ({"n_inputs": 3, "dropout": 1.0}, "dropout"),
        ({"n_inputs": 3, "task": "multiclass", "n_outputs": 1}, "n_outputs"),
        ({"n_inputs": 3, "task": "binary", "n_outputs": 2}, "n_outputs"),
    ],
)
def test_mlp_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        kerasnet.mlp(**kwargs)


@pytest.mark.parametrize(
    "task,loss,metric",
    [
        ("binary", keras.losses.BinaryCrossentropy, "accuracy"),
        ("multiclass", keras.losses.SparseCategoricalCrossentropy, "accuracy"),
        ("regression", keras.losses.MeanSquaredError, "rmse"),
    ],
)
def test_compile_for_picks_loss_and_metrics(task, loss, metric):
    n_out = 3 if task == "multiclass" else 1
    model = kerasnet.compile_for(
        kerasnet.mlp(4, n_outputs=n_out, hidden=(3,), task=task), task, learning_rate=0.01
    )
    assert isinstance(model.loss, loss)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.01)
    x = np.zeros((4, 4), "float32")
    y = np.zeros((4,), "float32")
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert metric in logs


def _full_batch_sgd(model, x, y, epochs, lr):
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse")
    model.fit(x, y, batch_size=len(x), epochs=epochs, verbose=0, shuffle=False)


def test_ridge_special_case_matches_sklearn():
    """mean((y - Xw - b)^2) + a*|w|^2 has Ridge(alpha=n*a)'s minimizer."""
    x, y = load_diabetes(return_X_y=True)
    x = StandardScaler().fit_transform(x).astype("float32")
    y = ((y - y.mean()) / y.std()).astype("float32")
    a = 0.05
    ridge = Ridge(alpha=len(x) * a).fit(x, y)
    model = kerasnet.mlp(x.shape[1], hidden=(), task="regression", penalty=kerasnet.ElasticNet(l2=a), seed=0)
    _full_batch_sgd(model, x, y, epochs=600, lr=0.2)
    kernel, bias = model.get_weights()
    # Reached tolerance: ~1e-6 in float32 after 600 full-batch steps.
    np.testing.assert_allclose(kernel.ravel(), ridge.coef_, atol=2e-5)
    assert float(bias[0]) == pytest.approx(ridge.intercept_, abs=2e-5)


def test_to_plain_keras_loads_without_kerasnet_in_fresh_process(tmp_path):
    model = kerasnet.mlp(5, hidden=(4,), penalty=kerasnet.ElasticNet(l1=1e-3, l2=2e-3), seed=2)
    plain = to_plain_keras(model)
    reg = plain.get_layer("hidden_1").kernel_regularizer
    assert type(reg) is keras.regularizers.L1L2 and (reg.l1, reg.l2) == (1e-3, 2e-3)
    assert float(keras.ops.convert_to_numpy(keras.ops.sum(plain.losses))) == pytest.approx(
        float(keras.ops.convert_to_numpy(keras.ops.sum(model.losses))), rel=1e-6
    )
    x = np.random.default_rng(0).normal(size=(6, 5)).astype("float32")
    path = tmp_path / "model.keras"
    plain.save(path)
    np.save(tmp_path / "x.npy", x)
    code = (
        "import sys, numpy as np, keras; "
        f"m = keras.saving.load_model(r'{path}', safe_mode=True); "
        f"np.save(r'{tmp_path / 'p.npy'}', m.predict(np.load(r'{tmp_path / 'x.npy'}'), verbose=0)); "
        "assert 'kerasnet' not in sys.modules"
    )
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend())
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.predict(x, verbose=0), rtol=1e-6, atol=1e-7)
