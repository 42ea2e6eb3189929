"""Per-member learning rates in one stacked fit: member k is the fit with rate k alone."""

import numpy as np
import pytest

from kerasnet.models import mlp
from kerasnet.path.engine import fit_members
from kerasnet.path.members import MemberSpec, Training
from kerasnet.path.rows import Rows

RATES = [1e-3, 1e-2, 5e-2]


def _data(n=48, d=5):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)).astype("float32")
    y = (X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=n) > 0).astype("float32")
    return X, y


@pytest.mark.backend
@pytest.mark.parametrize("optimizer, proximal", [("adam", True), ("adam", False), ("sgd", True)])
def test_each_members_rate_gives_the_fit_with_that_rate_alone(optimizer, proximal):
    X, y = _data()
    rows = Rows.prepare(X, y)
    l1 = [0.02, 0.02, 0.05]

    def training(rate=None):
        return Training("binary_crossentropy", epochs=4, batch_size=16, optimizer=optimizer,
                        learning_rate=rate, proximal=proximal, seed=0)

    stacked, _ = fit_members(mlp(5, 1, (6,), "binary", seed=0), rows,
                             MemberSpec.of(l1, 1e-3, learning_rate=RATES), training())
    for k, rate in enumerate(RATES):
        alone, _ = fit_members(mlp(5, 1, (6,), "binary", seed=0), rows, MemberSpec.of([l1[k]], 1e-3),
                               training(rate))
        for got, want in zip(stacked[k], alone[0], strict=True):
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
    # The rates made a difference: the members moved by different amounts from the same start.
    start = mlp(5, 1, (6,), "binary", seed=0).get_weights()[0]
    moved = [np.abs(stacked[k][0] - start).sum() for k in range(len(RATES))]
    assert moved[0] < moved[1] < moved[2]


def test_a_rate_schedule_cannot_vary_per_member():
    import keras

    X, y = _data()
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-2, 10, 0.9)
    with pytest.raises(ValueError, match="constant rate"):
        fit_members(mlp(5, 1, (6,), "binary", seed=0), Rows.prepare(X, y),
                    MemberSpec.of([0.0, 0.0], learning_rate=[1e-3, 1e-2]),
                    Training("binary_crossentropy", epochs=1, batch_size=16,
                             optimizer=keras.optimizers.Adam(schedule)))


def test_take_and_concat_keep_each_members_rate():
    spec = MemberSpec.of([0.1, 0.2, 0.3], learning_rate=[1e-3, 2e-3, 3e-3])
    np.testing.assert_allclose(spec.take([2, 0]).learning_rate, [3e-3, 1e-3])
    joined = MemberSpec.concat([spec.take([0]), spec.take([1, 2])])
    np.testing.assert_allclose(joined.learning_rate, spec.learning_rate)
