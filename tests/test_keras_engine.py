"""Tests for kerasnet.path.engine: K vectorized copies of any Keras model against Keras's own fit."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

import kerasnet
from kerasnet.path.engine import fit_members
from kerasnet.path.members import MemberSpec, Training
from kerasnet.path.rows import Rows
from kerasnet.path.stopping import StoppingRule

EPOCHS, BATCH, LR = 2, 32, 1e-2


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = (X[:192] / 16.0).reshape(-1, 8, 8, 1).astype("float32")
    return X, y[:192].astype("int32")


def cnn(reg=None, dropout=0.0):
    keras.utils.set_random_seed(0)
    layers = [keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu", kernel_regularizer=reg)]
    layers += [keras.layers.MaxPooling2D(2), keras.layers.Flatten()]
    layers += [keras.layers.Dropout(dropout)] if dropout else []
    layers += [keras.layers.Dense(10, activation="softmax", kernel_regularizer=reg)]
    return keras.Sequential(layers)


def keras_fit(model, X, y, epochs=EPOCHS, lr=LR):
    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy")
    model.fit(X, y, epochs=epochs, batch_size=BATCH, shuffle=False, verbose=0)
    return model.get_weights()


def assert_weights_close(a, b, atol=2e-5):
    assert len(a) == len(b)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, atol=atol, rtol=1e-4)


@pytest.mark.backend
def test_conv2d_members_match_keras_fit(digits):
    X, y = digits
    l2 = [0.0, 1e-3, 3e-2]
    weights, fit = fit_members(
        cnn(),
        Rows.prepare(X, y),
        MemberSpec.of([0.0] * 3, l2),
        Training("sparse_categorical_crossentropy", epochs=EPOCHS, batch_size=BATCH, learning_rate=LR,
                 shuffle=False),
    )
    assert fit.loss.shape == (EPOCHS, 3) and not fit.diverged.any()
    for k in range(3):
        reference = keras_fit(cnn(keras.regularizers.L1L2(0.0, l2[k])), X, y)
        assert_weights_close(weights[k], reference)


@pytest.mark.backend
def test_embedding_members_shrink_with_l2():
    rng = np.random.default_rng(0)
    category = rng.integers(0, 12, size=160).astype("int32")
    effect = rng.normal(size=12)
    y = (effect[category] + 0.1 * rng.normal(size=160)).astype("float32")
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((1,), dtype="int32"),
            keras.layers.Embedding(12, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    l2 = [0.0, 1e-2, 1.0]
    weights, fit = fit_members(
        model,
        Rows.prepare(category[:, None], y),
        MemberSpec.of([0.0] * 3, l2),
        Training("mse", epochs=5, batch_size=16, learning_rate=5e-2, seed=0),
    )
    norms = [sum(float(np.sum(w**2)) for w in ws[:1] + ws[1:2]) for ws in weights]  # embeddings, kernel
    assert norms[0] > norms[1] > norms[2]
    assert np.isfinite(fit.loss).all()


@pytest.mark.backend
def test_row_masks_isolate_members(digits):
    X, y = digits
    train_mask = np.zeros((2, len(y)), bool)
    train_mask[0, :96], train_mask[1, 64:] = True, True
    members = MemberSpec.of([0.0, 0.0], [1e-3, 1e-3], train=train_mask)
    training = Training("sparse_categorical_crossentropy", epochs=EPOCHS, batch_size=BATCH, learning_rate=LR,
                        shuffle=False)
    weights, _ = fit_members(cnn(), Rows.prepare(X, y), members, training)
    changed = y.copy()
    changed[96:] = (changed[96:] + 3) % 10  # rows outside member 0's mask
    weights_changed, _ = fit_members(cnn(), Rows.prepare(X, changed), members, training)
    assert_weights_close(weights[0], weights_changed[0], atol=0)
    assert not np.allclose(weights[1][-1], weights_changed[1][-1])
    # Member 0 is model.fit on its own rows.
    reference = keras_fit(cnn(keras.regularizers.L1L2(0.0, 1e-3)), X[:96], y[:96])
    assert_weights_close(weights[0], reference)


@pytest.mark.backend
def test_proximal_matches_keras_proximal_step():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(96, 10)).astype("float32")
    y = (X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=96)).astype("float32")

    def dense():
        keras.utils.set_random_seed(2)
        return keras.Sequential(
            [keras.Input((10,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)]
        )

    l1 = [0.0, 0.05]
    weights, _ = fit_members(
        dense(),
        Rows.prepare(X, y),
        MemberSpec.of(l1, [0.0, 0.0]),
        Training("mse", proximal=True, epochs=2, batch_size=16, learning_rate=LR, shuffle=False),
    )
    assert (weights[1][0] == 0).sum() > 0 and (weights[0][0] == 0).sum() == 0
    for k in range(2):
        model = kerasnet.penalize(dense(), kerasnet.ElasticNet(l1=l1[k], proximal=True))
        model.compile(keras.optimizers.Adam(LR), "mse")
        model.fit(X, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        reference = model.get_weights()
        assert_weights_close(weights[k], reference)
        np.testing.assert_array_equal(weights[k][0] == 0, reference[0] == 0)


@pytest.mark.backend
def test_multi_input_functional_model(digits):
    X, y = digits
    image = keras.Input((8, 8, 1))
    extra = keras.Input((3,))
    keras.utils.set_random_seed(3)
    h = keras.layers.Flatten()(keras.layers.Conv1D(2, 3)(keras.layers.Reshape((8, 8))(image)))
    h = keras.layers.Concatenate()([h, keras.layers.Normalization(mean=0.5, variance=0.1)(extra)])
    out = keras.layers.Dense(10, activation="softmax")(h)
    model = keras.Model([image, extra], out)
    side = np.random.default_rng(0).random((len(y), 3)).astype("float32")
    seen = []
    weights, fit = fit_members(
        model,
        Rows.prepare([X, side], y),
        MemberSpec.of([0.0, 1e-3], [1e-3, 0.0]),
        Training("sparse_categorical_crossentropy", epochs=EPOCHS, batch_size=BATCH, learning_rate=LR,
                 seed=0),
        callback=lambda epoch, logs: seen.append((epoch, logs["loss"].shape)),
    )
    assert seen == [(0, (2,)), (1, (2,))]
    assert len(weights) == 2 and len(weights[0]) == len(model.get_weights())
    assert np.isfinite(fit.loss).all()
    assert not np.allclose(weights[0][0], weights[1][0])


@pytest.mark.backend
def test_batchnorm_rmsprop_loss_object_match_keras_fit():
    """Non-trainable state per member; any optimizer; a Loss object; L1 in the gradient."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 6)).astype("float32")
    y = (X[:, 0] > 0).astype("float32")

    def build(reg=None):
        keras.utils.set_random_seed(0)
        return keras.Sequential(
            [
                keras.Input((6,)),
                keras.layers.Dense(5, kernel_regularizer=reg),
                keras.layers.BatchNormalization(),
                keras.layers.Activation("relu"),
                keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=reg),
            ]
        )

    strengths = [(0.0, 1e-3), (1e-3, 0.0)]
    weights, _ = fit_members(
        build(),
        Rows.prepare(X, y),
        MemberSpec.of([a for a, _ in strengths], [b for _, b in strengths]),
        Training(
            keras.losses.BinaryCrossentropy(),
            optimizer=keras.optimizers.RMSprop(),
            learning_rate=LR,
            epochs=2,
            batch_size=20,  # full batches: padding rows would enter BatchNormalization's statistics
            shuffle=False,
        ),
    )
    for k, (a, b) in enumerate(strengths):
        model = build(keras.regularizers.L1L2(a, b))
        model.compile(keras.optimizers.RMSprop(LR), keras.losses.BinaryCrossentropy())
        model.fit(X, y, epochs=2, batch_size=20, shuffle=False, verbose=0)
        assert_weights_close(weights[k], model.get_weights())


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="torch model.fit draws other masks")
def test_dropout_stream_zero_matches_keras_fit(digits):
    """Member of stream 0 draws the same dropout masks as model.fit; stream 1 draws others."""
    X, y = digits
    weights, _ = fit_members(
        cnn(dropout=0.3),
        Rows.prepare(X, y),
        MemberSpec.of([0.0, 0.0], [0.0, 0.0], streams=[0, 1]),
        Training("sparse_categorical_crossentropy", epochs=EPOCHS, batch_size=BATCH, learning_rate=LR,
                 shuffle=False),
    )
    assert_weights_close(weights[0], keras_fit(cnn(dropout=0.3), X, y))
    assert not np.allclose(weights[0][-2], weights[1][-2])


@pytest.mark.backend
def test_early_stopping_keeps_best_weights_and_flags_divergence(digits):
    X, y = digits
    val_mask = np.zeros((3, len(y)), bool)
    val_mask[:, 128:] = True
    train_mask = ~val_mask
    rows = Rows.prepare(X, y)
    l1, l2 = [0.0] * 3, [0.0, 0.3, 0.0]
    training = Training("sparse_categorical_crossentropy", batch_size=BATCH, shuffle=False)
    weights, fit = fit_members(
        cnn(),
        rows,
        MemberSpec.of(l1, l2, train=train_mask, val=val_mask),
        training.replace(epochs=6, learning_rate=np.float32(0.05)),
        StoppingRule(patience=1),
    )
    assert fit.val_objective.shape[1] == 3
    k = int(np.argmin(fit.best_epoch[:2]))
    members = MemberSpec.of(l1, l2, train=train_mask)
    again, _ = fit_members(cnn(), rows, members,
                           training.replace(epochs=int(fit.best_epoch[k]), learning_rate=0.05))
    assert_weights_close(weights[k], again[k])
    # SGD on 1e4 * sum W**2 at lr 0.5 blows up geometrically
    members = MemberSpec.of(l1, [0.0, 1e4, 0.0], train=train_mask)
    blown_weights, blown = fit_members(cnn(), rows, members,
                                       training.replace(epochs=3, learning_rate=0.5, optimizer="sgd"))
    assert blown.diverged.tolist() == [False, True, False]
    assert blown.epochs_trained[1] < 3 and blown.epochs_trained[[0, 2]].tolist() == [3, 3]
    assert all(np.isfinite(w).all() for w in blown_weights[0])
