"""penalize(): same model and weights, penalty on the chosen kernels, original untouched."""

import keras
import numpy as np
import pytest

from kerasnet.penalize import penalize
from kerasnet.penalty import ElasticNet, GroupLasso
from kerasnet.proximal import ProximalStep

RNG = np.random.default_rng(0)


def _dense_functional():
    inputs = keras.Input((6,), name="x")
    h = keras.layers.Dense(5, activation="relu", name="d1")(inputs)
    h = keras.layers.BatchNormalization(name="bn")(h)
    outputs = keras.layers.Dense(2, name="d2")(h)
    return keras.Model(inputs, outputs), RNG.normal(size=(8, 6)).astype("float32")


def _nested():
    inner = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(4, name="inner_a"), keras.layers.Dense(3, name="inner_b")],
        name="inner",
    )
    inputs = keras.Input((6,))
    h = keras.layers.Dense(5, name="outer_a", kernel_constraint=keras.constraints.NonNeg())(inputs)
    outputs = keras.layers.Dense(1, name="outer_b")(inner(h))
    return keras.Model(inputs, outputs), RNG.normal(size=(8, 6)).astype("float32")


def _sequential_mixed():
    model = keras.Sequential(
        [
            keras.Input((7, 4, 4, 3)),
            keras.layers.Conv3D(2, 2, name="c3"),
            keras.layers.Reshape((6, 3 * 3 * 2)),
            keras.layers.Conv1D(3, 2, name="c1"),
            keras.layers.Reshape((5, 3, 1)),
            keras.layers.Conv2D(2, (2, 2), name="c2"),
            keras.layers.Flatten(),
            keras.layers.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c", name="ein"),
            keras.layers.Dense(1, name="out"),
        ]
    )
    return model, RNG.normal(size=(4, 7, 4, 4, 3)).astype("float32")


def _embedding():
    inputs = keras.Input((5,), dtype="int32")
    h = keras.layers.Embedding(10, 3, name="emb")(inputs)
    h = keras.layers.GlobalAveragePooling1D()(h)
    return keras.Model(inputs, keras.layers.Dense(1, name="out")(h)), RNG.integers(0, 10, size=(6, 5))


MODELS = {
    "functional": (_dense_functional, ["d1", "d2"]),
    "nested": (_nested, ["outer_a", "inner_a", "inner_b", "outer_b"]),
    "sequential-conv-einsum": (_sequential_mixed, ["c3", "c1", "c2", "ein", "out"]),
    "embedding": (_embedding, ["emb", "out"]),
}


def _layers(model):
    return {layer.name: layer for layer in model._flatten_layers(include_self=False, recursive=True)}


def _weight(layer):
    return layer.embeddings if isinstance(layer, keras.layers.Embedding) else layer.kernel


def _regularizer(layer):
    key = "embeddings" if isinstance(layer, keras.layers.Embedding) else "kernel"
    return getattr(layer, f"{key}_regularizer")


@pytest.mark.backend
@pytest.mark.parametrize("name", sorted(MODELS))
def test_penalty_reaches_every_kernel_and_nothing_else_changes(name):
    build, kernel_layers = MODELS[name]
    model, x = build()
    before = [w.copy() for w in model.get_weights()]
    penalty = ElasticNet(l1=0.01, l2=0.02)
    copy = penalize(model, penalty)

    assert type(copy) is type(model)
    for w, v in zip(model.get_weights(), copy.get_weights(), strict=True):
        np.testing.assert_array_equal(w, v)
    np.testing.assert_array_equal(copy.predict(x, verbose=0), model.predict(x, verbose=0))
    layers = _layers(copy)
    expected = sum(
        0.01 * np.abs(_weight(layers[n]).numpy()).sum() + 0.02 * np.square(_weight(layers[n]).numpy()).sum()
        for n in kernel_layers
    )
    assert len(copy.losses) == len(kernel_layers)
    penalty_sum = sum(float(keras.ops.convert_to_numpy(v)) for v in copy.losses)
    assert penalty_sum == pytest.approx(expected, rel=1e-5)
    # The original keeps its weights and gains no penalty.
    assert not model.losses
    assert all(_regularizer(_layers(model)[n]) is None for n in kernel_layers)
    for w, v in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(w, v)


def _gradients(model, x, y):
    if keras.backend.backend() == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]

        def total(tv):
            # Regularizers read the variables through the scope, like Keras's JAX trainer.
            with keras.StatelessScope(state_mapping=list(zip(model.trainable_variables, tv, strict=True))):
                pred = model(x)
                return keras.ops.mean((pred - y) ** 2) + sum(model.losses)

        return [np.asarray(g) for g in jax.grad(total)(trainable)]
    import torch

    model.zero_grad()
    pred = model(x)
    loss = torch.mean((pred - torch.as_tensor(y)) ** 2) + sum(model.losses)
    loss.backward()
    return [v.value.grad.numpy().copy() for v in model.trainable_variables]


@pytest.mark.backend
def test_penalty_changes_the_gradients_by_its_own_gradient():
    model, x = _dense_functional()
    y = RNG.normal(size=(8, 2)).astype("float32")
    copy = penalize(model, ElasticNet(l2=0.5), layers="d1")
    g_plain = _gradients(model, x, y)
    g_pen = _gradients(copy, x, y)
    names = [v.path for v in copy.trainable_variables]
    for name, a, b, v in zip(names, g_plain, g_pen, copy.trainable_variables, strict=True):
        if name == "d1/kernel":
            np.testing.assert_allclose(b - a, 2 * 0.5 * v.numpy(), rtol=1e-4, atol=1e-6)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "layers,expected",
    [
        ("inner_b", {"inner_b"}),
        (["outer_a", "inner_a"], {"outer_a", "inner_a"}),
        (keras.layers.Dense, {"outer_a", "inner_a", "inner_b", "outer_b"}),
        (lambda layer: layer.name.startswith("outer"), {"outer_a", "outer_b"}),
    ],
    ids=["name", "names", "class", "predicate"],
)
def test_layers_selects_by_name_class_or_predicate(layers, expected):
    model, _ = _nested()
    copy = penalize(model, ElasticNet(l2=0.1), layers=layers)
    got = {n for n, layer in _layers(copy).items() if getattr(layer, "kernel_regularizer", None) is not None}
    assert got == expected


def test_proximal_penalty_installs_step_before_existing_constraint_and_trains():
    model, x = _nested()
    copy = penalize(model, ElasticNet(l1=0.05, proximal=True))
    constraint = _layers(copy)["outer_a"].kernel_constraint
    assert isinstance(constraint, ProximalStep)
    assert isinstance(constraint.then, keras.constraints.NonNeg)
    copy.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    copy.fit(x, np.zeros((8, 1), "float32"), epochs=30, batch_size=8, verbose=0)
    kernel = _layers(copy)["inner_a"].kernel.numpy()
    assert np.count_nonzero(kernel == 0) > 0
    assert np.all(_layers(copy)["outer_a"].kernel.numpy() >= 0)


@pytest.mark.parametrize("name", ["nested", "embedding"])
def test_penalized_copy_saves_and_reloads(name, tmp_path):
    model, x = MODELS[name][0]()
    copy = penalize(model, GroupLasso(0.1) if name == "embedding" else ElasticNet(0.01, 0.01, proximal=True))
    path = tmp_path / "m.keras"
    copy.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), copy.predict(x, verbose=0), atol=1e-6)
    assert float(sum(loaded.losses)) == pytest.approx(float(sum(copy.losses)), rel=1e-6)
    assert repr(_regularizer(_layers(loaded)[MODELS[name][1][0]])) == repr(
        _regularizer(_layers(copy)[MODELS[name][1][0]])
    )


def test_none_removes_penalties():
    model, _ = _nested()
    copy = penalize(penalize(model, ElasticNet(l1=0.1, proximal=True)), None)
    assert not copy.losses
    assert isinstance(_layers(copy)["outer_a"].kernel_constraint, keras.constraints.NonNeg)


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)

    def call(self, x):
        return self.dense(x)


def test_subclassed_model_gets_a_clear_error():
    model = _Subclassed()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="subclassed model.*Functional API"):
        penalize(model, ElasticNet(l1=0.1))


@pytest.mark.parametrize("bad", [{"layers": 3}, {"layers": [1.5]}, {"penalty": "l1"}])
def test_bad_arguments_are_named(bad):
    model, _ = _dense_functional()
    kwargs = {"penalty": ElasticNet(l1=0.1), **bad}
    with pytest.raises(ValueError, match=next(iter(bad))):
        penalize(model, **kwargs)
