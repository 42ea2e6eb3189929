"""A search's stacked network: a masked member is exactly the narrower network, a rate weight is Dropout."""

import keras
import numpy as np
import pytest

from kerasnet.models import mlp
from kerasnet.path.engine import fit_members
from kerasnet.path.members import MemberSpec, Training
from kerasnet.path.rows import Rows
from kerasnet.search.space import Config
from kerasnet.search.stack import Stack


def _data(n=40, d=5):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)).astype("float32")
    y = (X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=n) > 0).astype("float32")
    return X, y


def _config(hidden, dropout=0.0):
    return Config(0.01, 0.5, 1e-2, dropout, tuple(hidden))


def _narrow_model(stack, start, config):
    model = mlp(5, 1, config.hidden, "binary", dropout=config.dropout, seed=0)
    model.set_weights([w for pair in stack.narrow(start, config) for w in pair])
    return model


def _training(epochs=6):
    return Training("binary_crossentropy", epochs=epochs, batch_size=16, learning_rate=1e-2, proximal=True,
                    seed=0)


def _spec(configs, n, starts):
    val = np.zeros(n, bool)
    val[::4] = True
    K = len(configs)
    return MemberSpec.of([0.004] * K, [0.002] * K, train=np.stack([~val] * K), val=np.stack([val] * K),
                         start=(starts, np.arange(K)))


@pytest.mark.backend
def test_a_masked_member_is_the_narrow_network_trained_alone_epoch_by_epoch():
    X, y = _data()
    rows = Rows.prepare(X, y)
    configs = [_config((3, 2)), _config((7, 4)), _config((5, 4))]
    stack = Stack.build(configs, 5, 1, "binary", seed=0)
    starts = [stack.start(c) for c in configs]
    weights, fit = fit_members(stack.network, rows, _spec(configs, len(y), starts), _training())
    for k, config in enumerate(configs):
        alone_model = _narrow_model(stack, starts[k], config)
        spec = _spec([config], len(y), [alone_model.get_weights()])
        alone, alone_fit = fit_members(alone_model, rows, spec, _training())
        np.testing.assert_allclose(fit.loss[:, k], alone_fit.loss[:, 0], rtol=1e-5)
        np.testing.assert_allclose(fit.val_loss[:, k], alone_fit.val_loss[:, 0], rtol=1e-5)
        narrow = [w for pair in stack.narrow(weights[k], config) for w in pair]
        for got, want in zip(narrow, alone[0], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        # Nothing outside the member's own units moved off zero.
        kernel = np.asarray(weights[k][0])
        assert not kernel[:, config.hidden[0]:].any()
    # The widths made a difference.
    assert not np.allclose(fit.loss[:, 0], fit.loss[:, 1])


def test_a_start_keeps_the_narrow_layers_glorot_limit_and_its_units():
    configs = [_config((4,)), _config((60,))]
    stack = Stack.build(configs, 5, 1, "binary", seed=0)
    start = stack.start(configs[0])
    kernel = start[0]
    assert kernel.shape == (5, 60) and not kernel[:, 4:].any()
    assert np.abs(kernel[:, :4]).max() <= np.sqrt(6 / (5 + 4)) + 1e-6
    assert np.abs(kernel[:, :4]).max() > np.sqrt(6 / (5 + 60))  # rescaled up from the wide draw
    mask = [w for w, v in zip(start, stack.network.weights, strict=True) if "units" in v.path][0]
    np.testing.assert_array_equal(mask, [1] * 4 + [0] * 56)


@pytest.mark.backend
def test_a_rate_of_zero_is_no_dropout():
    X, y = _data()
    rows = Rows.prepare(X, y)
    configs = [_config((6,), 0.0), _config((6,), 0.4)]
    stack = Stack.build(configs, 5, 1, "binary", seed=0)
    starts = [stack.start(c) for c in configs]
    _, fit = fit_members(stack.network, rows, _spec(configs, len(y), starts), _training())
    plain = _narrow_model(stack, starts[0], configs[0])
    _, alone = fit_members(plain, rows, _spec(configs[:1], len(y), [plain.get_weights()]), _training())
    np.testing.assert_allclose(fit.loss[:, 0], alone.loss[:, 0], rtol=1e-5)
    assert not np.allclose(fit.loss[:, 1], fit.loss[:, 0])  # the 0.4 member dropped units


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="Keras's own Dropout draws its masks so on JAX")
def test_a_rate_weight_draws_keras_dropout_masks_on_jax():
    X, y = _data()
    rows = Rows.prepare(X, y)
    configs = [_config((6,), 0.3)]
    stack = Stack.build(configs, 5, 1, "binary", seed=0)
    starts = [stack.start(configs[0])]
    weights, fit = fit_members(stack.network, rows, _spec(configs, len(y), starts), _training())
    plain = _narrow_model(stack, starts[0], configs[0])  # mlp(dropout=0.3): keras.layers.Dropout
    alone, alone_fit = fit_members(plain, rows, _spec(configs, len(y), [plain.get_weights()]), _training())
    np.testing.assert_allclose(fit.loss[:, 0], alone_fit.loss[:, 0], rtol=1e-5)
    np.testing.assert_allclose(stack.narrow(weights[0], configs[0])[0][0], alone[0][0], rtol=1e-5, atol=1e-6)


@pytest.mark.backend
def test_a_starts_non_trainable_weights_are_the_members_own():
    # A BatchNormalization's moving statistics in a start are what the member predicts with.
    from kerasnet.path.inference import member_outputs

    X, y = _data()
    model = keras.Sequential([keras.Input((5,)), keras.layers.BatchNormalization(),
                              keras.layers.Dense(1, activation="sigmoid")])
    weights = [np.asarray(w).copy() for w in model.get_weights()]
    names = [v.path for v in model.weights]
    weights[names.index(next(n for n in names if "moving_mean" in n))][:] = 2.0
    got = member_outputs(model, Rows.prepare(X, y), [weights], "binary_crossentropy")[0]
    model.set_weights(weights)
    np.testing.assert_allclose(got.reshape(-1), model.predict(X, verbose=0).reshape(-1), rtol=1e-5)
