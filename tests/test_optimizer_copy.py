"""The engine trains with a copy of a user's optimizer: the copy keeps what its config drops.

A Keras optimizer's config holds its rate and decay but not ``exclude_from_weight_decay``, so a
copy made with ``from_config`` alone would decay every weight. The reference is Keras itself:
``model.fit`` with the user's optimizer.
"""

import keras
import numpy as np
import pytest

from kerasnet.models import compile_for, mlp
from kerasnet.path.engine import fit_members
from kerasnet.path.members import MemberSpec, Training
from kerasnet.path.rows import Rows


def _data(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype("float32")
    y = (X @ np.array([1.0, -2.0, 0.5]) + 3.0 + 0.1 * rng.normal(size=n)).astype("float32")
    return X, y


def _adamw(exclude):
    optimizer = keras.optimizers.AdamW(learning_rate=5e-2, weight_decay=0.5)
    if exclude:
        optimizer.exclude_from_weight_decay(var_names=["bias"])
    return optimizer


@pytest.mark.backend
@pytest.mark.parametrize("exclude", [True, False])
def test_member_keeps_the_optimizers_weight_decay_exclusions(exclude):
    X, y = _data()
    network = mlp(3, 1, (4,), "regression", seed=0)
    start = network.get_weights()
    rows, members = Rows.prepare(X, y), MemberSpec.of([0.0], [0.0])

    def training(optimizer):
        return Training("mean_squared_error", epochs=5, batch_size=40, optimizer=optimizer,
                        learning_rate=None, shuffle=False)

    weights, _ = fit_members(network, rows, members, training(_adamw(exclude)))
    alone = mlp(3, 1, (4,), "regression")
    alone.set_weights(start)
    compile_for(alone, "regression", optimizer=_adamw(exclude))
    alone.fit(X, y, batch_size=40, epochs=5, shuffle=False, verbose=0)
    for got, ref in zip(weights[0], alone.get_weights(), strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=2e-6)
    # The exclusion matters here: the biases end elsewhere with and without it.
    other, _ = fit_members(network, rows, members, training(_adamw(not exclude)))
    assert np.abs(other[0][-1] - weights[0][-1]).max() > 1e-3
