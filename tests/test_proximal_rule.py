"""One proximal rule: the Adam step size, and the warning for decoupled weight decay."""

import warnings

import keras
import numpy as np
import pytest

from kerasnet.models import compile_for, mlp
from kerasnet.penalty import ElasticNet
from kerasnet.proximal import adam_step_size


def test_adam_step_size_is_step_per_unit_of_bias_corrected_gradient():
    """Keras's Adam moves a weight by ``m_hat * s`` with ``m_hat = m / (1 - beta_1**t)``."""
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-7
    g = np.array([[0.5, -2.0], [1e-3, 3.0]], "float32")
    # One step from zero state: m = (1 - b1) g, v = (1 - b2) g**2.
    m, v = (1 - b1) * g, (1 - b2) * g**2
    alpha = lr * np.sqrt(1 - b2) / (1 - b1)
    keras_move = m * alpha / (np.sqrt(v) + eps)
    s = np.asarray(adam_step_size(lr, 1, v, b2, eps))
    # float32 tolerance: 1 - beta_2 in float32 is off by ~1e-5 relative, in Keras too.
    np.testing.assert_allclose(keras_move, (m / (1 - b1)) * s, rtol=2e-5)
    # Per-member t, shaped to broadcast against a [K, ...] tensor.
    t = np.array([1.0, 5.0], "float32").reshape(2, 1)
    got = np.asarray(adam_step_size(lr, t, v, b2, eps))
    np.testing.assert_allclose(got[1], lr * np.sqrt(1 - b2**5) / (np.sqrt(v[1]) + eps), rtol=2e-5)


def _fit_once(optimizer):
    X = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    y = (X[:, 0] > 0).astype("float32")
    model = mlp(3, 1, (4,), "binary", penalty=ElasticNet(l1=1e-2, proximal=True), seed=0)
    compile_for(model, "binary", optimizer=optimizer)
    model.fit(X, y, batch_size=8, epochs=2, verbose=0)


@pytest.mark.backend
def test_weight_decay_with_proximal_penalty_warns_once():
    with pytest.warns(UserWarning, match="AdamW.*weight_decay") as record:
        _fit_once(keras.optimizers.AdamW(1e-2))
    assert sum("weight_decay" in str(w.message) for w in record) == 1


@pytest.mark.backend
def test_adam_without_weight_decay_does_not_warn():
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*weight_decay.*")
        _fit_once(keras.optimizers.Adam(1e-2))
