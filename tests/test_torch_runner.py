"""TorchRunner (vmapped gradients, optimizer on the stacked members) against LoopRunner."""

import keras
import numpy as np
import pytest

pytestmark = [
    pytest.mark.backend,
    pytest.mark.skipif(keras.backend.backend() != "torch", reason="TorchRunner is torch's runner"),
]

K, N, BATCH, EPOCHS = 5, 70, 16, 3


def mlp(dropout=0.0):
    keras.utils.set_random_seed(0)
    layers = [keras.Input((6,)), keras.layers.Dense(8, activation="relu")]
    layers += [keras.layers.Dropout(dropout)] if dropout else []
    layers += [keras.layers.Dense(1)]
    return keras.Sequential(layers)


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 6)).astype("float32")
    y = (X[:, :2].sum(axis=1) + 0.1 * rng.normal(size=N)).astype("float32")
    # Members with 70, 64, 50, 33 and 20 rows: some sit out the last steps of an epoch, so
    # their iteration counters drift apart and the stacked update runs in several groups.
    train_mask = np.zeros((K, N), bool)
    for k, rows in enumerate([70, 64, 50, 33, 20]):
        train_mask[k, rng.permutation(N)[:rows]] = True
    return X, y, train_mask


def fit(runner_kind, optimizer, proximal=False, dropout=0.0, l1=(0.0, 1e-3, 1e-2, 3e-2, 1e-1)):
    from kerasnet.path import engine, runners
    from kerasnet.path.members import MemberSpec, Training
    from kerasnet.path.rows import Rows
    from kerasnet.path.runners import LoopRunner
    from kerasnet.path.torch_runner import TorchRunner

    runners._CACHE.clear()
    original = runners.runner_for
    made = []

    def runner_for(*args, **kwargs):
        runner, step = original(*args, **kwargs)
        runner = LoopRunner(step) if runner_kind == "loop" else TorchRunner(step)
        made.append(runner)
        return runner, step

    X, y, train_mask = data()
    l1 = np.array(l1, "float32")
    engine.runner_for = runner_for
    try:
        weights, result = engine.fit_members(
            mlp(dropout), Rows.prepare(X, y),
            MemberSpec.of(l1, np.full(K, 1e-3), train=train_mask, val=~train_mask),
            Training("mse", epochs=EPOCHS, batch_size=BATCH, optimizer=optimizer, proximal=proximal, seed=0))
    finally:
        engine.runner_for = original
        runners._CACHE.clear()
    return weights, result, made[0]


def assert_same(a, b, atol=1e-6):
    for wa, wb in zip(a, b, strict=True):
        for u, v in zip(wa, wb, strict=True):
            np.testing.assert_allclose(u, v, atol=atol, rtol=1e-5)


def test_adam_matches_loop_with_diverging_iteration_counts():
    loop, loop_fit, _ = fit("loop", keras.optimizers.Adam(1e-2))
    torch_w, torch_fit, runner = fit("torch", keras.optimizers.Adam(1e-2))
    assert runner.fallback is None and runner.stacked
    assert_same(loop, torch_w)
    np.testing.assert_allclose(loop_fit.loss, torch_fit.loss, rtol=1e-5)
    np.testing.assert_allclose(loop_fit.val_loss, torch_fit.val_loss, rtol=1e-5)


def test_proximal_sgd_matches_loop_with_exact_zeros():
    strong = (0.0, 1e-2, 1e-1, 3e-1, 1.0)  # strong enough for exact zeros in three epochs
    loop, _, _ = fit("loop", keras.optimizers.SGD(0.05), proximal=True, l1=strong)
    torch_w, _, runner = fit("torch", keras.optimizers.SGD(0.05), proximal=True, l1=strong)
    assert runner.fallback is None and runner.stacked
    assert_same(loop, torch_w)
    zeros = [[w == 0 for w in member] for member in loop]
    assert any(z.any() for member in zeros for z in member)
    for za, w in zip(zeros, torch_w, strict=True):
        for z, u in zip(za, w, strict=True):
            np.testing.assert_array_equal(z, u == 0)


def test_proximal_adam_matches_loop():
    loop, _, _ = fit("loop", keras.optimizers.Adam(1e-2), proximal=True)
    torch_w, _, runner = fit("torch", keras.optimizers.Adam(1e-2), proximal=True)
    assert runner.fallback is None and runner.stacked
    assert_same(loop, torch_w)


def test_clipnorm_is_applied_per_member():
    loop, _, _ = fit("loop", keras.optimizers.Adam(1e-2, clipnorm=1.0))
    torch_w, _, runner = fit("torch", keras.optimizers.Adam(1e-2, clipnorm=1.0))
    assert runner.fallback is None and not runner.stacked
    assert_same(loop, torch_w)


def test_dropout_falls_back_to_the_loop():
    loop, _, _ = fit("loop", keras.optimizers.Adam(1e-2), dropout=0.3)
    torch_w, _, runner = fit("torch", keras.optimizers.Adam(1e-2), dropout=0.3)
    assert runner.fallback is not None
    assert_same(loop, torch_w)


def test_runner_for_picks_torch_runner():
    from kerasnet.path import runners
    from kerasnet.path.torch_runner import TorchRunner

    runners._CACHE.clear()
    runner, _ = runners.runner_for(mlp(), keras.optimizers.Adam(), "mse", None, False)
    runners._CACHE.clear()
    assert isinstance(runner, TorchRunner)


@pytest.mark.parametrize("name", ["AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion",
                                  "Ftrl"])
def test_other_elementwise_optimizers_match_loop(name):
    make = lambda: getattr(keras.optimizers, name)(learning_rate=1e-2)  # noqa: E731
    loop, _, _ = fit("loop", make(), proximal=name in ("RMSprop", "Nadam"))
    torch_w, _, runner = fit("torch", make(), proximal=name in ("RMSprop", "Nadam"))
    assert runner.fallback is None and runner.stacked
    assert_same(loop, torch_w)


def test_the_stacked_optimizer_skips_weight_decay_where_the_models_skips_it():
    # The shadow optimizer on [k, ...] variables is a fresh copy: it must skip weight decay on the
    # variables the model's optimizer skips (here by name pattern), and on those only.
    import collections
    import types

    from kerasnet.path.torch_runner import TorchRunner

    model = mlp()
    optimizer = keras.optimizers.AdamW(learning_rate=1e-2, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    optimizer.build(model.trainable_variables)
    fake = types.SimpleNamespace(_shadows=collections.OrderedDict(),
                                 step=types.SimpleNamespace(optimizer=optimizer, model=model))
    shadow, variables = TorchRunner._shadow(fake, 3)
    assert [v.shape for v in variables] == [(3,) + tuple(v.shape) for v in model.trainable_variables]
    assert [shadow._use_weight_decay(s) for s in variables] == [
        "bias" not in v.name for v in model.trainable_variables] == [True, False, True, False]
