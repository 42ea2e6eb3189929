"""PenaltyMonitor's logged numbers against hand computations."""

import csv

import keras
import numpy as np
import pytest

import kerasnet
from kerasnet.monitor import kernel_sparsity, penalty_value

pytestmark = pytest.mark.backend


def _data(n=64, d=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    y = (x[:, 0] + 0.5 * rng.normal(size=n) > 0).astype("float32")
    return x, y


def _bce(p, y):
    p = np.clip(p.ravel(), 1e-7, 1 - 1e-7)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def test_frozen_weights_give_exact_split_of_the_loss():
    """With a zero learning rate the weights never move, so every number is checkable."""
    x, y = _data()
    model = kerasnet.mlp(5, hidden=(4,), penalty=kerasnet.ElasticNet(l1=0.01, l2=0.02), seed=0)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy")
    expected_penalty = penalty_value(model)
    history = model.fit(
        x[:48], y[:48], validation_data=(x[48:], y[48:]), batch_size=16, epochs=2, verbose=0,
        callbacks=[kerasnet.PenaltyMonitor()], shuffle=False,
    )
    logs = history.history
    assert logs["penalty"][-1] == pytest.approx(expected_penalty, rel=1e-5)
    p_train = keras.ops.convert_to_numpy(model(x[:48]))
    p_val = keras.ops.convert_to_numpy(model(x[48:]))
    assert logs["data_loss"][-1] == pytest.approx(_bce(p_train, y[:48]), rel=1e-4)
    assert logs["val_data_loss"][-1] == pytest.approx(_bce(p_val, y[48:]), rel=1e-4)
    assert logs["data_loss"][-1] + logs["penalty"][-1] == pytest.approx(logs["loss"][-1], rel=1e-5)
    assert logs["sparsity"][-1] == 0.0


def test_penalty_tracks_training_and_csvlogger_sees_it(tmp_path):
    x, y = _data()
    model = kerasnet.compile_for(
        kerasnet.mlp(5, hidden=(4,), penalty=kerasnet.ElasticNet(l2=0.05), seed=1),
        "binary",
        learning_rate=0.05,
    )
    start = penalty_value(model)
    log_path = tmp_path / "log.csv"
    history = model.fit(
        x, y, epochs=3, batch_size=16, verbose=0,
        callbacks=[kerasnet.PenaltyMonitor(), keras.callbacks.CSVLogger(str(log_path))],
    )
    pen = history.history["penalty"]
    assert pen[0] != pytest.approx(start, rel=1e-6)  # averaged over steps, weights moved
    assert pen[-1] < start  # L2 shrinks the weights
    rows = list(csv.DictReader(log_path.open()))
    assert len(rows) == 3
    assert {"penalty", "data_loss", "sparsity"} <= set(rows[0])
    assert float(rows[-1]["penalty"]) == pytest.approx(pen[-1], rel=1e-6)
    assert "val_data_loss" not in history.history


def test_no_penalty_means_zero_penalty():
    x, y = _data()
    model = kerasnet.compile_for(kerasnet.mlp(5, hidden=(4,), seed=1), "binary")
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[kerasnet.PenaltyMonitor()])
    assert history.history["penalty"] == [0.0]
    assert history.history["data_loss"][0] == pytest.approx(history.history["loss"][0])


def test_kernel_sparsity_counts_exact_zeros_only_in_kernels():
    model = kerasnet.mlp(4, hidden=(5,), seed=0)  # kernels 4*5 + 5*1 = 25 weights
    kernel, bias, out_kernel, out_bias = model.get_weights()
    kernel[:2] = 0.0  # 10 zeros
    bias[:] = 0.0  # biases never count
    out_kernel[0] = 1e-30  # tiny is not zero
    model.set_weights([kernel, bias, out_kernel, out_bias])
    assert kernel_sparsity(model) == pytest.approx(10 / 25)


def test_proximal_penalty_counts_the_l1_part_kept_out_of_the_loss():
    """Proximal L1 leaves Keras's loss; the monitor still reports the whole penalty."""
    x, y = _data()
    penalty = kerasnet.ElasticNet(l1=0.01, l2=0.02, proximal=True)
    model = kerasnet.mlp(5, hidden=(4,), penalty=penalty, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy")
    kernels = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables if len(v.shape) == 2]
    l1_part = 0.01 * sum(np.abs(k).sum() for k in kernels)
    l2_part = 0.02 * sum((k**2).sum() for k in kernels)
    history = model.fit(x, y, batch_size=64, epochs=1, verbose=0, callbacks=[kerasnet.PenaltyMonitor()])
    logs = history.history
    assert logs["penalty"][0] == pytest.approx(l1_part + l2_part, rel=1e-5)
    p = keras.ops.convert_to_numpy(model(x))
    assert logs["data_loss"][0] == pytest.approx(_bce(p, y), rel=1e-4)
    assert logs["loss"][0] == pytest.approx(_bce(p, y) + l2_part, rel=1e-4)
