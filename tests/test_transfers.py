"""How many times a fit_path sends X to the device (issue 24: the goal is once per fit).

Every host-to-device transfer of kerasnet goes through ``jax.device_put`` (JAX,
:func:`kerasnet.path.device.to_device`) or ``keras.ops.convert_to_tensor`` (torch's
``to_device``, and the gradient of :func:`kerasnet.path.features.group_lambda_max`), both looked
up at call time, so wrapping them sees every upload. X is told from the small arrays (masks
``[sets, n]``, scalings ``[K, d]``, batch indices) by its shape: a host array of X's width with
at least half its rows (X, a training subset, a standardized copy; the MLP's table padded to a
bucket of columns, :mod:`kerasnet.path.buckets`, counts as X). On JAX,
``jax.transfer_guard_host_to_device("log")`` around these fits shows no other transfer of that
shape (an implicit one, a NumPy array handed to a compiled function): the count is complete.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.datasets import make_classification

import kerasnet
from kerasnet.path.buckets import bucket

pytestmark = pytest.mark.backend
N, D = 120, 5
TINY = dict(hidden=(4,), cv=3, epochs=3, seed=0, verbose=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(N, D, n_informative=3, random_state=0)
    return X.astype("float32"), y


@pytest.fixture
def uploads(monkeypatch):
    """A list that gets the shape of every X-sized host array sent to the device."""
    seen = []

    def counting(send):
        def wrapper(value, *args, **kwargs):
            # The MLP's table goes up padded to a bucket of columns (kerasnet.path.buckets).
            if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[1] in (D, bucket(D)) \
                    and value.shape[0] >= N // 2:
                seen.append(value.shape)
            return send(value, *args, **kwargs)
        return wrapper

    monkeypatch.setattr(keras.ops, "convert_to_tensor", counting(keras.ops.convert_to_tensor))
    if keras.backend.backend() == "jax":
        import jax

        monkeypatch.setattr(jax, "device_put", counting(jax.device_put))
    return seen


def test_the_counter_sees_an_upload_of_x_and_not_a_small_array(data, uploads):
    from kerasnet.path.device import to_device

    X, _ = data
    to_device(X)
    to_device(np.zeros((9, D), "float32"))  # a [K, d] scaling, not X
    keras.ops.convert_to_tensor(X[: N // 2])
    assert uploads == [(N, D), (N // 2, D)]


# The rows go to the device once per fit: every stage and inference pass reuses them.
def test_default_path_uploads_x_once(data, uploads):
    # The probe of the grid's top, the CV fit, the refit, the null-top check, the deviance explained
    # and the linear baseline's own path.
    kerasnet.fit_path(*data, n_lambdas=3, **TINY)
    assert len(uploads) == 1


def test_a_given_grid_without_baselines_uploads_x_once(data, uploads):
    kerasnet.fit_path(*data, lambdas=[0.1, 0.01], baselines=False, **TINY)
    assert len(uploads) == 1


def test_feature_selection_uploads_x_once(data, uploads):
    # Dense starts, two group lambda_max gradients, CV + refit of three stages, deviance explained.
    kerasnet.fit_path(*data, feature_selection=True, relax=True, n_lambdas=3, **TINY)
    assert len(uploads) == 1


def test_a_model_of_your_own_uploads_x_once_and_its_linear_baseline_once_more(data, uploads):
    import keras

    model = keras.Sequential([keras.Input((D,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    # n_lambdas small: the linear path's [members, d] scalings stay shorter than X (the counter's rule)
    kerasnet.fit_path(*data, model=model, lambdas=[0.1, 0.01], n_lambdas=4, **{**TINY, "hidden": ()})
    assert len(uploads) == 2  # the linear baseline is fit_path(hidden=()) on the table as given
