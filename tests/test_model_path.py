"""fit_path(model=...): the path and CV of a user's own Keras model (CNN, embeddings, several inputs)."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from kerasnet import fit_path


def _cnn():
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ])


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[::3] / 16.0).reshape(-1, 8, 8, 1).astype("float32"), y[::3]


@pytest.fixture(scope="module")
def cnn_path(digits):
    X, y = digits
    return fit_path(X, y, model=_cnn, n_lambdas=4, cv=3, epochs=8, learning_rate=1e-2, seed=0, verbose=0,
                    keep=True)


def test_cnn_path_chooses_a_strength_by_cv(cnn_path, digits):
    X, y = digits
    p = cnn_path
    assert p.task == "multiclass" and p.cv_scores_.shape == (4, 3)
    assert p.lambda_min_ == p.lambdas_[np.nanargmin(p.cv_mean_)]
    # The top of the grid is (near) constant: chance-level error; the best learns the digits.
    errors = p.cv_summary("class")[0]
    assert errors[0] > 0.8 and np.nanmin(errors) < 0.25
    # Out-of-fold class probabilities reproduce the CV error of the best strength.
    oof = p.oof_predictions_[p.index_min_]
    assert oof.shape == (len(y), 10) and np.allclose(oof.sum(axis=1), 1, atol=1e-4)
    assert np.mean(oof.argmax(axis=1) != y) == pytest.approx(errors[p.index_min_], abs=0.02)


def test_path_model_is_the_users_architecture_with_keras_l1l2(cnn_path, digits):
    X, y = digits
    p = cnn_path
    model = p.model("min")
    assert [type(layer).__name__ for layer in model.layers] == ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    reg = model.get_layer("conv").kernel_regularizer
    assert type(reg) is keras.regularizers.L1L2
    assert reg.l1 == pytest.approx(p.lambda_min_ * 0.5) and reg.l2 == pytest.approx(p.lambda_min_ * 0.25)
    for got, want in zip(model.get_weights(), p.weights_[p.index_min_], strict=True):
        np.testing.assert_array_equal(got, want)
    probs = model.predict(X, verbose=0)
    np.testing.assert_array_equal(p.predict(X, "min"), p.classes_[probs.argmax(axis=1)])
    assert (p.predict(X, "min") == y).mean() > 0.8


def test_stronger_penalty_smaller_kernels(cnn_path):
    norms = cnn_path.weight_norm_
    assert norms[0] < norms[-1]


@pytest.mark.backend
def test_embedding_and_two_inputs():
    rng = np.random.default_rng(0)
    n = 240
    city = rng.integers(0, 12, n)
    x = rng.normal(size=(n, 3)).astype("float32")
    effect = rng.normal(size=12)
    y = (effect[city] + x[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)

    def build():
        keras.utils.set_random_seed(1)
        cat = keras.Input((1,), dtype="int32", name="city")
        num = keras.Input((3,), name="numbers")
        emb = keras.layers.Flatten()(keras.layers.Embedding(12, 2, name="emb")(cat))
        joined = keras.layers.Concatenate()([emb, num])
        hidden = keras.layers.Dense(8, activation="relu", name="hidden")(joined)
        return keras.Model([cat, num], keras.layers.Dense(1, activation="sigmoid", name="out")(hidden))

    p = fit_path([city[:, None], x], y, model=build, n_lambdas=3, cv=2, epochs=10, learning_rate=1e-2,
                 seed=0, verbose=0, penalized=["emb", "hidden"])
    assert p.task == "binary" and np.isfinite(p.cv_mean_).all()
    assert 1 - np.nanmin(p.cv_summary("class")[0]) > 0.7
    model = p.model("min")
    assert model.get_layer("out").kernel_regularizer is None  # only the chosen layers are penalized
    assert model.get_layer("emb").embeddings_regularizer is not None
    assert p.predict([city[:5, None], x[:5]], "min").shape == (5,)


def test_an_unbuilt_model_is_refused(digits):
    X, y = digits
    with pytest.raises(ValueError, match="built keras.Model"):
        fit_path(X, y, model=lambda: keras.Sequential([keras.layers.Dense(10)]), verbose=0)
