"""ElasticNet against a hand computation and against Keras's own L1L2."""

import json
import math

import keras
import numpy as np
import pytest

import kerasnet
from kerasnet.penalty import GroupLasso, lambda_to_l1_l2

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


# ----------------------------------------------------------------------------- checks and mapping


def test_check_strength_messages_name_the_argument_and_the_value():
    assert kerasnet.penalty.check_strength(np.float32(0.5), "lam") == 0.5
    assert type(kerasnet.penalty.check_strength(2, "lam")) is float
    assert kerasnet.penalty.check_strength(0, "lam") == 0.0  # zero is allowed
    with pytest.raises(ValueError, match=r"^lam must be a non-negative finite number; received lam=-0\.5\.$"):
        kerasnet.penalty.check_strength(-0.5, "lam")
    with pytest.raises(ValueError, match=r"^lam must be a non-negative finite number; received lam=inf\.$"):
        kerasnet.penalty.check_strength(math.inf, "lam")
    with pytest.raises(ValueError, match=r"^lam must be .*; received lam='1' of type str\.$"):
        kerasnet.penalty.check_strength("1", "lam")
    with pytest.raises(ValueError, match=r"received lam=False of type bool"):
        kerasnet.penalty.check_strength(False, "lam")


@pytest.mark.parametrize(
    "lam, l1_ratio, expected",
    [(0.2, 0.25, (0.05, 0.075)), (3.0, 1.0, (3.0, 0.0)), (3.0, 0.0, (0.0, 1.5)), (0.0, 0.5, (0.0, 0.0))],
)
def test_lambda_to_l1_l2_is_glmnets_penalty(lam, l1_ratio, expected):
    # glmnet: lam * (a |w|_1 + (1 - a)/2 |w|_2^2); Keras's L1L2: l1 |w|_1 + l2 |w|_2^2.
    assert lambda_to_l1_l2(lam, l1_ratio) == pytest.approx(expected, abs=1e-15)
    w = np.array([0.5, -2.0, 1.5])
    l1, l2 = lambda_to_l1_l2(lam, l1_ratio)
    glmnet = lam * (l1_ratio * np.abs(w).sum() + (1 - l1_ratio) / 2 * np.square(w).sum())
    assert l1 * np.abs(w).sum() + l2 * np.square(w).sum() == pytest.approx(glmnet, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    "lam, l1_ratio, match",
    [
        (-1.0, 0.5, r"^lam must be a non-negative finite number; received lam=-1\.0\.$"),
        (math.nan, 0.5, r"^lam must be a non-negative finite number; received lam=nan\.$"),
        (1.0, -0.5, r"^l1_ratio must be a non-negative finite number; received l1_ratio=-0\.5\.$"),
        (1.0, 1.5, r"^l1_ratio must be in \[0, 1\]; received l1_ratio=1\.5\.$"),
    ],
)
def test_lambda_to_l1_l2_rejects_bad_arguments_by_name(lam, l1_ratio, match):
    with pytest.raises(ValueError, match=match):
        lambda_to_l1_l2(lam, l1_ratio)


def test_from_lambda_defaults_and_none_strengths():
    reg = kerasnet.ElasticNet.from_lambda(0.2)  # l1_ratio 0.5, not proximal
    assert (reg.l1, reg.l2, reg.proximal) == (pytest.approx(0.1), pytest.approx(0.05), False)
    assert kerasnet.ElasticNet.from_lambda(0.2, 1.0, proximal=True).proximal is True
    assert repr(kerasnet.ElasticNet(l1=None, l2=None)) == "ElasticNet(l1=0.0, l2=0.0, proximal=False)"
    with pytest.raises(ValueError, match=r"^proximal must be True or False; received proximal=1\.$"):
        kerasnet.ElasticNet(0.1, proximal=1)


# ----------------------------------------------------------------------------- values and prox steps


W = np.array([[1.0, -2.0, 0.0], [0.5, 0.0, -0.25]], "float32")  # |W|_1 = 3.75, |W|_2^2 = 5.3125


def _num(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


@pytest.mark.parametrize("proximal", [False, True])
def test_total_is_the_whole_elastic_net_in_either_mode(proximal):
    reg = kerasnet.ElasticNet(l1=0.1, l2=0.01, proximal=proximal)
    assert float(_num(reg.total(W))) == pytest.approx(0.1 * 3.75 + 0.01 * 5.3125, rel=1e-6)
    assert float(_num(kerasnet.ElasticNet(l2=0.01).total(W))) == pytest.approx(0.053125, rel=1e-6)
    assert float(_num(kerasnet.ElasticNet(l1=0.1).total(W))) == pytest.approx(0.375, rel=1e-6)


def test_elastic_net_prox_is_the_soft_threshold_by_step_times_l1():
    reg = kerasnet.ElasticNet(l1=0.5, l2=0.3, proximal=True)
    # Threshold 0.2 * 0.5 = 0.1 (the L2 part is not in the prox step).
    np.testing.assert_allclose(_num(reg.prox(W, 0.2)), [[0.9, -1.9, 0.0], [0.4, 0.0, -0.15]], rtol=1e-6)
    # One step per weight (Adam): each weight its own threshold.
    steps = np.array([[2.0, 1.0, 1.0], [0.5, 1.0, 1.0]], "float32")
    np.testing.assert_allclose(_num(reg.prox(W, steps)), [[0.0, -1.5, 0.0], [0.25, 0.0, 0.0]], atol=1e-7)
    # l1 = 0 leaves the weights as they are.
    assert kerasnet.ElasticNet(l2=0.3, proximal=True).prox(W, 0.2) is W


def test_to_keras_is_keras_l1l2_with_the_same_strengths():
    plain = kerasnet.ElasticNet(l1=0.01, l2=0.02, proximal=True).to_keras()
    assert type(plain) is keras.regularizers.L1L2
    assert (plain.l1, plain.l2) == (pytest.approx(0.01), pytest.approx(0.02))


def test_group_lasso_values_by_hand():
    # Row norms of W: sqrt(5) and sqrt(0.3125); a 3-d kernel's rows are its flattened slices.
    norms = np.sqrt(5.0) + np.sqrt(0.3125)
    assert float(_num(GroupLasso(0.5).total(W))) == pytest.approx(0.5 * norms, rel=1e-6)
    subgradient = GroupLasso(0.5, proximal=False)
    assert float(_num(subgradient(keras.ops.convert_to_tensor(W)))) == pytest.approx(0.5 * norms, rel=1e-6)
    assert float(_num(GroupLasso(0.0, proximal=False)(keras.ops.convert_to_tensor(W)))) == 0.0
    W3 = W.reshape(2, 3, 1) * np.ones((1, 1, 2), "float32")  # each entry twice: norms * sqrt(2)
    assert float(_num(GroupLasso(1.0).total(W3))) == pytest.approx(np.sqrt(2) * norms, rel=1e-6)
    assert float(_num(GroupLasso(1.0, proximal=False)(W3))) == pytest.approx(np.sqrt(2) * norms, rel=1e-6)


def test_group_lasso_prox_shrinks_each_row_by_step_times_strength():
    # Threshold 0.5 * 2 = 1: row 1 (norm sqrt 5) scales by 1 - 1/sqrt(5); row 2 (norm 0.559) goes.
    got = _num(GroupLasso(2.0).prox(W, 0.5))
    np.testing.assert_allclose(got, [W[0] * (1 - 1 / np.sqrt(5.0)), [0.0, 0.0, 0.0]], rtol=1e-6)
    assert GroupLasso(0.0).prox(W, 0.5) is W


def test_group_lasso_config_and_repr():
    reg = GroupLasso(np.float64(0.25), proximal=False)
    assert reg.get_config() == {"strength": 0.25, "proximal": False}
    assert repr(GroupLasso.from_config(reg.get_config())) == "GroupLasso(strength=0.25, proximal=False)"
    back = keras.regularizers.deserialize(keras.regularizers.serialize(GroupLasso(0.5)))
    assert (type(back), back.strength, back.proximal) == (GroupLasso, 0.5, True)
    with pytest.raises(ValueError, match=r"^proximal must be True or False; received proximal='no'\.$"):
        GroupLasso(0.1, proximal="no")


def test_penalties_keep_the_weights_dtype_like_keras_l1l2():
    # Keras's L1L2 returns the weights' dtype (float16 under a "float16" dtype policy); so do ours.
    w = keras.ops.convert_to_tensor(W, dtype="float16")
    reg = kerasnet.ElasticNet(l1=0.5, l2=0.25)
    assert keras.backend.standardize_dtype(keras.regularizers.L1L2(0.5, 0.25)(w).dtype) == "float16"
    values = {
        "call": (reg(w), 0.5 * 3.75 + 0.25 * 5.3125),
        "total": (kerasnet.ElasticNet(l1=0.5, l2=0.25, proximal=True).total(w), 0.5 * 3.75 + 0.25 * 5.3125),
        "prox": (reg.prox(w, 0.5), np.sign(W) * np.maximum(np.abs(W) - 0.25, 0)),
        "group call": (GroupLasso(0.5, proximal=False)(w), 0.5 * (np.sqrt(5.0) + np.sqrt(0.3125))),
        "group proximal call": (GroupLasso(0.5)(w), 0.0),
        "group total": (GroupLasso(0.5).total(w), 0.5 * (np.sqrt(5.0) + np.sqrt(0.3125))),
        "group prox": (GroupLasso(2.0).prox(w, 0.5), [W[0] * (1 - 1 / np.sqrt(5.0)), [0.0, 0.0, 0.0]]),
    }
    for name, (out, ref) in values.items():
        assert keras.backend.standardize_dtype(out.dtype) == "float16", name
        np.testing.assert_allclose(_num(out), ref, rtol=3e-3, atol=1e-3, err_msg=name)


def test_unit_strengths_are_not_special():
    # l1 = 1 or l2 = 1 exactly: each term still counts (the code skips only zero strengths).
    assert float(_num(kerasnet.ElasticNet(l1=1.0)(W))) == pytest.approx(3.75, rel=1e-6)
    assert float(_num(kerasnet.ElasticNet(l2=1.0)(W))) == pytest.approx(5.3125, rel=1e-6)
    assert float(_num(kerasnet.ElasticNet(l1=1.0, l2=1.0)(W))) == pytest.approx(9.0625, rel=1e-6)


def test_group_lasso_strength_message():
    message = r"^strength must be a non-negative finite number; received strength=-1\.0\.$"
    with pytest.raises(ValueError, match=message):
        GroupLasso(-1.0)
