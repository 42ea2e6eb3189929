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


def test_proximal_objective_is_data_loss_plus_the_whole_penalty_every_epoch():
    """Keras's loss leaves out the L1 the proximal step applies; ``objective`` puts it back."""
    x, y = _data()
    penalty = kerasnet.ElasticNet(l1=0.01, l2=0.02, proximal=True)
    model = kerasnet.compile_for(kerasnet.mlp(5, hidden=(4,), penalty=penalty, seed=0), "binary",
                                 learning_rate=0.05)
    history = model.fit(x[:48], y[:48], validation_data=(x[48:], y[48:]), batch_size=16, epochs=3,
                        verbose=0, callbacks=[kerasnet.PenaltyMonitor()]).history
    for epoch in range(3):
        whole = history["data_loss"][epoch] + history["penalty"][epoch]
        assert history["objective"][epoch] == pytest.approx(whole, abs=1e-6)
        assert history["objective"][epoch] > history["loss"][epoch] + 1e-3  # the L1 part Keras left out
    # Validation: the data loss at the end-of-epoch weights plus their whole penalty, computed here.
    kernels = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables if len(v.shape) == 2]
    end_penalty = sum(0.01 * np.abs(k).sum() + 0.02 * (k**2).sum() for k in kernels)
    p_val = keras.ops.convert_to_numpy(model(x[48:]))
    assert history["val_objective"][-1] == pytest.approx(_bce(p_val, y[48:]) + end_penalty, rel=1e-4)


def test_objective_equals_keras_loss_without_proximal_penalties():
    x, y = _data()
    model = kerasnet.compile_for(kerasnet.mlp(5, hidden=(4,), penalty=kerasnet.ElasticNet(l1=0.01), seed=0),
                                 "binary")
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[kerasnet.PenaltyMonitor()]).history
    np.testing.assert_allclose(history["objective"], history["loss"], rtol=1e-6)


def test_learning_curves_draw_the_objective_not_kerass_loss():
    from kerasnet.plots import learning_curves

    history = {"loss": [0.5, 0.4], "data_loss": [0.3, 0.2], "penalty": [0.4, 0.3],
               "val_loss": [0.6, 0.5], "val_objective": [0.9, 0.8]}
    left = learning_curves(history).axes[0]
    drawn = {line.get_label(): line.get_ydata().tolist() for line in left.get_lines()}
    assert drawn["train objective"] == pytest.approx([0.7, 0.5])  # data loss + penalty, not 0.5, 0.4
    assert drawn["validation objective"] == pytest.approx([0.9, 0.8])
    assert left.get_title() == "Objective (data loss + penalty)"
    bare = learning_curves({"loss": [0.5, 0.4]}).axes[0]  # Keras's loss alone is not called the objective
    assert bare.get_title() == "Keras's loss"


def test_path_engine_logs_the_proximal_l1_in_its_objective():
    """The path's curves (``Path.curves``: the engine's ``loss`` / ``val_objective``) count the L1 that
    the proximal step applies: the held-out objective minus the held-out data loss is the whole
    elastic net of the member's final kernels, computed here."""
    from kerasnet.path.engine import fit_members
    from kerasnet.path.members import MemberSpec, Training
    from kerasnet.path.rows import Rows

    x, y = _data(n=60, d=3)
    held = np.arange(60) >= 40
    weights, fit = fit_members(kerasnet.mlp(3, hidden=(4,), seed=0), Rows.prepare(x, y),
                               MemberSpec.of([0.02], [0.01], train=~held[None], val=held[None]),
                               Training("binary_crossentropy", proximal=True, epochs=3, batch_size=16,
                                        learning_rate=0.05, seed=0))
    kernels = [w for w in weights[0] if w.ndim == 2]
    whole = sum(0.02 * np.abs(k).sum() + 0.01 * (k**2).sum() for k in kernels)
    assert np.count_nonzero(kernels[0] == 0) > 0  # the L1 was proximal: exact zeros
    assert fit.val_objective[-1, 0] - fit.val_loss[-1, 0] == pytest.approx(whole, rel=1e-4)
