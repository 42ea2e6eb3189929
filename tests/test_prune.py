"""prune(): a smaller drop-in model with the same predictions; selected_features()."""

import keras
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from kerasnet.models import compile_for, mlp
from kerasnet.penalty import ElasticNet, GroupLasso
from kerasnet.prune import SelectFeatures, prune, selected_features

RNG = np.random.default_rng(0)


def _sparse_mlp(activation="relu", task="regression"):
    """6 inputs -> 5 -> 4 -> 2 with hand-made zeros and known prunable parts."""
    model = mlp(6, n_outputs=2, hidden=(5, 4), task=task, activation=activation, seed=0)
    w1, b1, w2, b2, w3, b3 = (RNG.normal(size=w.shape).astype("float32") for w in model.get_weights())
    w1[[1, 4], :] = 0  # features 1 and 4 unused
    w1[:, 2] = 0  # hidden_1 unit 2 is dead: constant activation(b1[2]) flows on
    b1[2] = 0.7
    w2[3, :] = 0  # hidden_1 unit 3 feeds nothing
    w3[1, :] = 0  # hidden_2 unit 1 feeds nothing -> its column in w2 goes too
    model.set_weights([w1, b1, w2, b2, w3, b3])
    return model


@pytest.mark.backend
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_prune_removes_dead_parts_and_keeps_predictions(activation):
    model = _sparse_mlp(activation)
    small, report = prune(model, feature_names=list("abcdef"))
    x = RNG.normal(size=(200, 6)).astype("float32") * 3
    np.testing.assert_allclose(small.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    assert report.kept_features == [0, 2, 3, 5]
    assert report.feature_names == ["a", "c", "d", "f"]
    assert report.units == {"hidden_1": (5, 3), "hidden_2": (4, 3), "output": (2, 2)}
    # Parameters: 4*3+3 + 3*3+3 + 3*2+2 = 35, from 6*5+5 + 5*4+4 + 4*2+2 = 69.
    assert (report.params_before, report.params_after) == (69, 35)
    assert small.count_params() == 35
    assert isinstance(small.layers[0], SelectFeatures)
    assert [layer.name for layer in small.layers[1:]] == ["hidden_1", "hidden_2", "output"]


def test_prune_is_identity_when_nothing_is_zero():
    model = mlp(4, hidden=(3,), seed=1)
    small, report = prune(model)
    assert report.params_before == report.params_after == model.count_params()
    assert not any(isinstance(layer, SelectFeatures) for layer in small.layers)
    x = RNG.normal(size=(10, 4)).astype("float32")
    np.testing.assert_allclose(small.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_layer_with_every_unit_dead_keeps_one_and_predictions():
    model = mlp(3, hidden=(4, 2), task="regression", seed=0)
    weights = model.get_weights()
    weights[0][:] = 0
    weights[1][:] = np.array([0.5, -1.0, 2.0, 0.1], "float32")
    model.set_weights(weights)
    small, report = prune(model)
    x = RNG.normal(size=(20, 3)).astype("float32")
    np.testing.assert_allclose(small.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    assert report.units["hidden_1"][1] == 1 and len(report.kept_features) == 1


def test_pruned_model_saves_and_loads_in_safe_mode(tmp_path):
    model = _sparse_mlp()
    small, _ = prune(model)
    path = tmp_path / "small.keras"
    small.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = RNG.normal(size=(30, 6)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    # Pruning again changes nothing and keeps the original feature indices.
    again, report = prune(loaded)
    assert report.kept_features == [0, 2, 3, 5] and report.params_after == report.params_before
    assert selected_features(loaded).indices.tolist() == [0, 2, 3, 5]


def test_functional_chain_with_dropout_is_pruned():
    inputs = keras.Input((5,))
    h = keras.layers.Dense(4, activation="relu", name="a")(inputs)
    h = keras.layers.Dropout(0.5)(h)
    outputs = keras.layers.Dense(1, name="b")(h)
    model = keras.Model(inputs, outputs)
    weights = model.get_weights()
    weights[0][0, :] = 0
    weights[2][2, :] = 0
    model.set_weights(weights)
    small, report = prune(model)
    assert report.kept_features == [1, 2, 3, 4] and report.units["a"] == (4, 3)
    x = RNG.normal(size=(30, 5)).astype("float32")
    np.testing.assert_allclose(small.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)


def test_model_that_is_not_a_dense_chain_gets_a_clear_error():
    inputs = keras.Input((5,))
    a = keras.layers.Dense(3)(inputs)
    b = keras.layers.Dense(3)(inputs)
    model = keras.Model(inputs, keras.layers.Add()([a, b]))
    with pytest.raises(ValueError, match="single chain of Dense layers"):
        prune(model)


def test_trained_proximal_model_prunes_to_the_same_predictions_on_held_out_data():
    X, y = make_classification(400, 12, n_informative=4, n_redundant=0, random_state=2)
    X = StandardScaler().fit_transform(X).astype("float32")
    model = mlp(12, hidden=(16, 8), penalty=ElasticNet(5e-3, proximal=True),
                input_penalty=GroupLasso(0.05), seed=0)
    compile_for(model, "binary", learning_rate=0.01)
    model.fit(X[:300], y[:300].astype("float32"), epochs=40, batch_size=50, verbose=0)
    small, report = prune(model)
    assert report.params_after < 0.7 * report.params_before
    assert report.kept_features == selected_features(model).indices.tolist()
    assert len(report.kept_features) < 12
    x = X[300:]
    np.testing.assert_allclose(small.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)


def test_selected_features_names_and_errors():
    model = _sparse_mlp()
    selection = selected_features(model, feature_names=["a", "b", "c", "d", "e", "f"])
    assert selection.indices.tolist() == [0, 2, 3, 5] and selection.names == ["a", "c", "d", "f"]
    assert selected_features(model).names is None
    with pytest.raises(ValueError, match="feature_names"):
        selected_features(model, feature_names=["a"])
