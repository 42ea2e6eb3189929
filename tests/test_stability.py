"""Stability selection: probabilities, the complementary-pairs bound, and the stacked fit."""

import numpy as np
import pytest

import kerasnet
from kerasnet.path.stability import StabilitySelection


def test_probabilities_region_and_bound_follow_meinshausen_buhlmann():
    # 3 strengths x 4 half-samples x 5 features.
    kept = np.zeros((3, 4, 5), bool)
    kept[0, :, 0] = True  # feature 0 always, from the top
    kept[1, :3, 1] = True  # feature 1 in 3 of 4 halves at the second strength
    kept[1:, :, 0] = True
    kept[2] = True  # everything at the weakest
    stable = StabilitySelection([1.0, 0.5, 0.25], kept, [f"f{j}" for j in range(5)], threshold=0.75, pfer=1.5)
    np.testing.assert_allclose(stable.probabilities_[:, 0], [1, 1, 1])
    np.testing.assert_allclose(stable.probabilities_[:, 1], [0, 0.75, 1])
    # q: mean size of the union down to each strength: 1, 1.75, 5.
    np.testing.assert_allclose(stable.q_, [1, 1.75, 5])
    np.testing.assert_allclose(stable.bound_, np.array([1, 1.75, 5]) ** 2 / (0.5 * 5))
    assert stable.region_ == 1  # bounds 0.4, 1.225, 10 against pfer 1.5
    np.testing.assert_array_equal(stable.selected_, [0, 1])
    assert stable.expected_false_ == pytest.approx(1.225)
    tighter = StabilitySelection([1.0, 0.5, 0.25], kept, list("abcde"), threshold=0.75, pfer=1.0)
    assert tighter.region_ == 0 and tighter.selected_names_ == ["a"]


def test_a_region_that_meets_pfer_and_nothing_when_none_does():
    kept = np.zeros((2, 4, 10), bool)
    kept[:, :, 0] = True
    kept[1, :, 1:] = True
    stable = StabilitySelection([1.0, 0.1], kept, [f"f{j}" for j in range(10)], threshold=0.9, pfer=0.5)
    assert stable.region_ == 0 and stable.selected_names_ == ["f0"]
    assert stable.expected_false_ == pytest.approx(1 / (0.8 * 10))
    strict = StabilitySelection([1.0, 0.1], kept, [f"f{j}" for j in range(10)], threshold=0.9, pfer=0.01)
    assert strict.region_ == -1 and len(strict.selected_) == 0 and "none" in repr(strict)


@pytest.mark.backend
def test_stability_selection_finds_the_strong_features_of_a_network():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 12)).astype("float32")
    y = 2 * X[:, 0] - 2 * X[:, 1] + np.abs(2 * X[:, 2]) + 0.3 * rng.normal(size=400)
    # With 12 features, three kept by every half: q = 3 and the bound 9 / (0.8 * 12) < 1 at 0.9.
    stable = kerasnet.stability_selection(X, y, hidden=(8,), n_pairs=4, n_lambdas=6, epochs=60, batch_size=64,
                                          learning_rate=1e-2, threshold=0.9, seed=0, verbose=0)
    assert stable.probabilities_.shape == (6, 12)
    assert set(stable.selected_.tolist()) == {0, 1, 2}
    assert stable.expected_false_ <= 1.0
    frame = stable.to_frame()
    assert list(frame["feature"][:3]) == sorted(frame["feature"][:3], key=lambda f: -frame.set_index(
        "feature").loc[f, "probability"])
    assert frame["selected"].sum() == 3
    fig = stable.plot()
    assert fig.axes[0].get_ylabel() == "selection probability"


@pytest.mark.parametrize("kwargs, message", [
    ({"threshold": 0.5}, "threshold must be in \\(0.5, 1\\]"),
    ({"n_pairs": 0}, "n_pairs must be an integer >= 1"),
    ({"pfer": -1.0}, "pfer"),
])
def test_stability_selection_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kerasnet.stability_selection(np.zeros((20, 3)), np.arange(20.0), **kwargs)
