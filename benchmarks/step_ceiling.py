"""How fast can one training step of 96 members be on this machine? The engine against ceilings.

Run from a clone: ``.venv/bin/python benchmarks/step_ceiling.py`` (about a minute).

The shapes of ``benchmarks/scale.py``: 96 members (16 strengths x 6 row sets), MLP 50-64-64-1,
batch 256, Adam, binary cross-entropy. Milliseconds per step of all 96 members, steady state
(compilation excluded, best of 3 runs of 100 steps):

* ``engine``: ``fit_members`` (the path's engine), one epoch of 100 steps per member, on rows
  prepared once (``Rows.prepare``, outside the timing, as a path prepares them).
* ``vmap, hand-written``: the same step as a pure JAX function (MLP, loss, Adam written out),
  ``jax.vmap`` over members, ``lax.scan`` over steps: what a vectorized step costs without Keras.
* ``one network, 96 x 256 rows``: a single network (no members) on a batch holding all members'
  rows: the same FLOPs in the widest matmuls these layers allow, a ceiling for any way of
  stacking members.
* ``floor``: 6 FLOPs per weight per row over the machine's large-matmul rate (``_floor.py``).
* ``Keras loop``: one member's ``model.fit`` step (steady state, batch 256) times 96.
"""

from __future__ import annotations

import os
import platform
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
K, B, D, H, STEPS = 96, 256, 50, (64, 64), 100


def _best(fn, repeats=3):
    import jax

    jax.block_until_ready(fn())
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - start)
    return best


def hand_written(X, y, rows_per_member):
    """ms per step: vmapped pure-JAX MLP + Adam, and one network on all members' rows."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    sizes = (D, *H, 1)
    rng = np.random.default_rng(0)
    params = [jnp.asarray(rng.normal(size=(K, a, b)).astype("float32") * 0.1)
              for a, b in zip(sizes, sizes[1:], strict=False)]
    params += [jnp.zeros((K, b), "float32") for b in sizes[1:]]

    def loss(p, xb, yb):
        n = len(sizes) - 1
        h = xb
        for i in range(n):
            h = h @ p[i] + p[n + i]
            h = jax.nn.relu(h) if i < n - 1 else h
        z = h[:, 0]
        return jnp.mean(jnp.maximum(z, 0) - z * yb + jnp.log1p(jnp.exp(-jnp.abs(z))))

    def adam(p, m, v, t, g, lr=1e-3):
        m = [0.9 * a + 0.1 * b for a, b in zip(m, g, strict=True)]
        v = [0.999 * a + 0.001 * b * b for a, b in zip(v, g, strict=True)]
        c1, c2 = 1 - 0.9 ** t, 1 - 0.999 ** t
        new = [a - lr * (mm / c1) / (jnp.sqrt(vv / c2) + 1e-7) for a, mm, vv in zip(p, m, v, strict=True)]
        return new, m, v

    def member_step(p, m, v, t, idx):
        g = jax.grad(loss)(p, X[idx], y[idx])
        return adam(p, m, v, t, g)

    stepped = jax.vmap(member_step, in_axes=(0, 0, 0, None, 0))
    idx = jnp.asarray(rng.integers(0, rows_per_member, size=(STEPS, K, B)).astype("int32"))

    @jax.jit
    def members(p, idx):
        def body(carry, i):
            p, m, v, t = carry
            p, m, v = stepped(p, m, v, t, i)
            return (p, m, v, t + 1), None

        zeros = [jnp.zeros_like(a) for a in p]
        return jax.lax.scan(body, (p, zeros, zeros, 1.0), idx)[0][0]

    one = [a[0] for a in params]

    @jax.jit
    def wide(p, idx):
        def body(carry, i):
            p, m, v, t = carry
            rows = i.reshape(-1)
            g = jax.grad(loss)(p, X[rows], y[rows])
            p, m, v = adam(p, m, v, t, g)
            return (p, m, v, t + 1), None

        zeros = [jnp.zeros_like(a) for a in p]
        return jax.lax.scan(body, (p, zeros, zeros, 1.0), idx)[0][0]

    return (1e3 * _best(lambda: members(params, idx)) / STEPS, 1e3 * _best(lambda: wide(one, idx)) / STEPS)


def engine_step(X, y):
    import numpy as np

    import kerasnet
    from kerasnet.path.engine import fit_members
    from kerasnet.path.inputs import NumpyGlorotUniform
    from kerasnet.path.members import MemberSpec, Training
    from kerasnet.path.rows import Rows

    n = STEPS * B
    model = kerasnet.mlp(D, 1, H, "binary", seed=0, kernel_initializer=NumpyGlorotUniform(0))
    rows = Rows.prepare(X[:n], y[:n])  # on the device once, as a path prepares its rows
    members = MemberSpec.of(np.geomspace(1e-2, 1e-5, K), streams=np.arange(K) % 6)
    training = Training("binary_crossentropy", epochs=1, batch_size=B, seed=0)
    fit_members(model, rows, members, training)  # compiles
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fit_members(model, rows, members, training)
        best = min(best, time.perf_counter() - start)
    return 1e3 * best / STEPS


def keras_step(X, y):
    import keras

    import kerasnet

    model = kerasnet.compile_for(kerasnet.mlp(D, 1, H, "binary", seed=0,
                                              penalty=keras.regularizers.L1L2(1e-4, 1e-4)), "binary")
    n = STEPS * B
    model.fit(X[:n], y[:n], epochs=1, batch_size=B, verbose=0)  # compiles
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        model.fit(X[:n], y[:n], epochs=1, batch_size=B, verbose=0)
        best = min(best, time.perf_counter() - start)
    return 1e3 * best / STEPS * K


def main():
    import jax
    import keras
    import numpy as np
    from _floor import matmul_rate, mlp_train_flops

    import kerasnet  # noqa: F401 - sets up the backend before Keras runs

    rng = np.random.default_rng(0)
    X = rng.normal(size=(STEPS * B * K // 6 + B, D)).astype("float32")
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype("float32")
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, Keras {keras.__version__}, JAX {jax.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    rate = matmul_rate()
    floor = 1e3 * mlp_train_flops((D, *H, 1), K * B) / (rate * 1e9)
    vmapped, wide = hand_written(jax.numpy.asarray(X), jax.numpy.asarray(y), len(X))
    rows = [("engine (fit_members)", engine_step(X, y)), ("vmap, hand-written JAX", vmapped),
            ("one network, 96 x 256 rows", wide), (f"floor ({rate:.0f} GFLOP/s)", floor),
            ("Keras loop (96 x one model.fit step)", keras_step(X, y))]
    print("| 96 members x batch 256, MLP 50-64-64-1, Adam | ms per step | x floor | Keras loop / this |")
    print("| --- | ---: | ---: | ---: |")
    loop = rows[-1][1]
    for name, ms in rows:
        print(f"| {name} | {ms:.2f} | {ms / floor:.1f} | {loop / ms:.1f}x |")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
