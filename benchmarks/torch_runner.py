"""On torch: the vectorized runner (torch.func) against the per-member loop, same members, same numbers.

Run: ``KERAS_BACKEND=torch .venv/bin/python benchmarks/torch_runner.py``

Breast cancer (569 x 30, standardized), ``kerasnet.mlp(30, 1, (64, 64))``, K = 80 members with
strengths ``logspace(-5, -1)``, 5 epochs, batch 32, one torch thread (two threads made the timings
of a shared machine swing by 10x). For each optimizer the same ``fit_members`` call runs with the
per-member ``LoopRunner`` and with ``TorchRunner`` (gradients of all members in one
``torch.func.vmap``; elementwise optimizers update the stacked members at once), alternating,
twice; the table shows the best time of each and the largest weight difference between them.
"""

from __future__ import annotations

import os
import platform
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402

import kerasnet  # noqa: E402
from kerasnet.path import engine, runners  # noqa: E402
from kerasnet.path.members import MemberSpec, Training  # noqa: E402
from kerasnet.path.rows import Rows  # noqa: E402
from kerasnet.path.torch_runner import TorchRunner  # noqa: E402

K, EPOCHS, BATCH = 80, 5, 32
OPTIMIZERS = {
    "Adam(1e-3)": (lambda: keras.optimizers.Adam(1e-3), False),
    "SGD(1e-2), proximal": (lambda: keras.optimizers.SGD(1e-2), True),
    "Adam(1e-3, clipnorm=1): not elementwise, updated per member": (
        lambda: keras.optimizers.Adam(1e-3, clipnorm=1.0), False),
}


def run(kind, X, y, make, proximal):
    """One fit_members call with the runner ``kind`` forced; returns (seconds, weights)."""
    original = runners.runner_for

    def forced(*args, **kwargs):
        runner, step = original(*args, **kwargs)
        return (runners.LoopRunner(step) if kind == "loop" else TorchRunner(step)), step

    runners._CACHE.clear()
    engine.runner_for = forced
    try:
        keras.utils.set_random_seed(0)
        model = kerasnet.mlp(30, 1, (64, 64), "binary")
        start = time.perf_counter()
        training = Training("binary_crossentropy", epochs=EPOCHS, batch_size=BATCH, optimizer=make(),
                            proximal=proximal, seed=0)
        weights, _ = engine.fit_members(model, Rows.prepare(X, y), MemberSpec.of(np.logspace(-5, -1, K)),
                                        training)
        return time.perf_counter() - start, weights
    finally:
        engine.runner_for = original


def main():
    if keras.backend.backend() != "torch":
        raise SystemExit("run with KERAS_BACKEND=torch")
    torch.set_num_threads(1)
    X, y = load_breast_cancer(return_X_y=True)
    X = ((X - X.mean(0)) / X.std(0)).astype("float32")
    y = y.astype("float32")
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, Keras {keras.__version__}, torch {torch.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| optimizer | per-member loop | TorchRunner | speed-up | max weight difference |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (make, proximal) in OPTIMIZERS.items():
        times, weights = {"loop": [], "torch": []}, {}
        for _ in range(2):
            for kind in ("loop", "torch"):
                seconds, weights[kind] = run(kind, X, y, make, proximal)
                times[kind].append(seconds)
        pairs = zip(weights["loop"], weights["torch"], strict=True)
        diff = max(float(np.abs(a - b).max()) for wa, wb in pairs for a, b in zip(wa, wb, strict=True))
        loop, vec = min(times["loop"]), min(times["torch"])
        print(f"| {name} | {loop:.2f} s | {vec:.2f} s | {loop / vec:.1f}x | {diff:.1e} |", flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
