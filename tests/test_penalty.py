"""ElasticNet against a hand computation and against Keras's own L1L2."""

import json
import math

import keras
import numpy as np
import pytest

import kerasnet
from kerasnet.penalty import lambda_to_l1_l2

pytestmark = pytest.mark.backend


@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.01, 0.0), (0.0, 0.02), (0.003, 0.05)])
def test_matches_hand_computation_and_keras_l1l2(l1, l2):
    w = np.random.default_rng(0).normal(size=(7, 5)).astype("float32")
    expected = l1 * np.abs(w).sum() + l2 * (w**2).sum()
    ours = float(
        keras.ops.convert_to_numpy(kerasnet.ElasticNet(l1=l1, l2=l2)(keras.ops.convert_to_tensor(w)))
    )
    theirs = float(
        keras.ops.convert_to_numpy(keras.regularizers.L1L2(l1=l1, l2=l2)(keras.ops.convert_to_tensor(w)))
    )
    assert ours == pytest.approx(expected, rel=1e-5, abs=1e-7)
    assert ours == theirs


def test_accepts_numpy_numbers():
    reg = kerasnet.ElasticNet(l1=np.float32(0.5), l2=np.float64(0.25))
    assert reg.l1 == 0.5 and reg.l2 == 0.25
    assert type(reg.l1) is float


@pytest.mark.parametrize(
    "kwargs", [{"l1": -1.0}, {"l2": -0.1}, {"l1": math.nan}, {"l2": math.inf}, {"l1": "0.1"}, {"l2": True}]
)
def test_rejects_bad_strengths(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=f"{name} must be a non-negative finite number"):
        kerasnet.ElasticNet(**kwargs)


def test_proximal_flag_round_trips_and_keeps_only_l2_in_the_loss():
    reg = kerasnet.ElasticNet(l1=0.1, l2=0.2, proximal=True)
    assert reg.proximal is True
    assert kerasnet.ElasticNet.from_config(reg.get_config()).proximal is True
    w = keras.ops.convert_to_tensor(np.array([[1.0, -2.0]], "float32"))
    # The L1 part is applied by the proximal step, not added to the loss.
    assert float(keras.ops.convert_to_numpy(reg(w))) == pytest.approx(0.2 * 5.0)
    with pytest.raises(ValueError, match="proximal"):
        kerasnet.ElasticNet(l1=0.1, proximal="yes")


def test_from_lambda_uses_glmnet_convention():
    reg = kerasnet.ElasticNet.from_lambda(0.2, l1_ratio=0.25)
    assert reg.l1 == pytest.approx(0.05)
    assert reg.l2 == pytest.approx(0.2 * 0.75 / 2)
    assert lambda_to_l1_l2(1.0, 1.0) == (1.0, 0.0)
    assert lambda_to_l1_l2(1.0, 0.0) == (0.0, 0.5)
    with pytest.raises(ValueError, match="l1_ratio"):
        kerasnet.ElasticNet.from_lambda(0.1, l1_ratio=1.5)


def test_config_round_trip_and_registration():
    reg = kerasnet.ElasticNet(l1=0.01, l2=0.02)
    config = keras.regularizers.serialize(reg)
    json.dumps(config)  # must be JSON-serializable for .keras files
    back = keras.regularizers.deserialize(config)
    assert isinstance(back, kerasnet.ElasticNet)
    assert back.get_config() == reg.get_config()
    assert kerasnet.ElasticNet.from_config(reg.get_config()).get_config() == reg.get_config()


def test_keras_file_round_trip(tmp_path):
    model = kerasnet.mlp(4, hidden=(3,), penalty=kerasnet.ElasticNet(l1=0.01, l2=0.02), seed=1)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode=True by default
    reg = loaded.get_layer("hidden_1").kernel_regularizer
    assert isinstance(reg, kerasnet.ElasticNet)
    assert (reg.l1, reg.l2) == (0.01, 0.02)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    penalties = [float(keras.ops.convert_to_numpy(v)) for v in loaded.losses]
    assert sum(penalties) == pytest.approx(kerasnet.monitor.penalty_value(model), rel=1e-6)
