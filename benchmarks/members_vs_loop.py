"""K members in one vectorized fit vs K sequential plain-Keras fits (K = 8, 32, 64).

Run: ``.venv/bin/python benchmarks/members_vs_loop.py``

Breast cancer (569 x 30, standardized), MLP 30-64-64-1, Adam lr 1e-3, batch 32, 20 epochs,
K elastic-net strengths (l1_ratio 0.5). Loop: for each strength, ``kerasnet.mlp`` +
``compile_for`` + ``model.fit`` (what a user writes). Members: the path engine
``kerasnet.path.engine.fit_members`` on the same (unpenalized) ``kerasnet.mlp`` with K strengths
(the rows' ``Rows.prepare`` inside the timing), first call (includes XLA compilation for that K)
and second call. All in one process, so ratios hold on a busy machine.
"""

from __future__ import annotations

import os
import platform
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")  # kerasnet's default; set before keras is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(__file__))
from _floor import matmul_rate, mlp_train_flops  # noqa: E402

from kerasnet.models import compile_for, mlp  # noqa: E402
from kerasnet.path.engine import fit_members  # noqa: E402
from kerasnet.path.members import MemberSpec, Training  # noqa: E402
from kerasnet.path.rows import Rows  # noqa: E402
from kerasnet.penalty import ElasticNet, lambda_to_l1_l2  # noqa: E402

EPOCHS, BATCH, LR, HIDDEN = 20, 32, 1e-3, (64, 64)


def loop(X, y, lambdas):
    t = time.perf_counter()
    for lam in lambdas:
        model = compile_for(mlp(X.shape[1], 1, HIDDEN, "binary", penalty=ElasticNet.from_lambda(lam, 0.5)),
                            "binary", learning_rate=LR)
        model.fit(X, y, epochs=EPOCHS, batch_size=BATCH, verbose=0)
    return time.perf_counter() - t


def stacked(X, y, lambdas):
    t = time.perf_counter()
    l1, l2 = np.array([lambda_to_l1_l2(float(lam), 0.5) for lam in lambdas]).T
    model = mlp(X.shape[1], 1, HIDDEN, "binary", seed=0)
    training = Training("binary_crossentropy", epochs=EPOCHS, batch_size=BATCH, learning_rate=LR, seed=0)
    fit_members(model, Rows.prepare(X, y), MemberSpec.of(l1, l2), training)  # the rows' preparation timed too
    return time.perf_counter() - t


def main(ks=(8, 32, 64)):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype("float32")
    rate = matmul_rate()
    rows = [
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"keras {keras.__version__} ({keras.backend.backend()}), load average {os.getloadavg()}",
        "",
        "| K | loop of K Keras fits (s) | members, first call (s) | members, second call (s) | "
        "ratio (first) | ratio (second) | floor (s) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for k in ks:
        lambdas = np.geomspace(0.1, 1e-4, k)
        t_loop = loop(X, y, lambdas)
        t_cold = stacked(X, y, lambdas)
        t_warm = stacked(X, y, lambdas)
        floor = k * mlp_train_flops((30, *HIDDEN, 1), len(y) * EPOCHS) / (rate * 1e9)
        rows.append(f"| {k} | {t_loop:.2f} | {t_cold:.2f} | {t_warm:.2f} | {t_loop / t_cold:.1f}x | "
                    f"{t_loop / t_warm:.1f}x | {floor:.3f} |")
        print(rows[-1], flush=True)
    rows.append(f"\nfloor: 6 FLOPs per weight per row seen, at {rate:.0f} GFLOP/s (measured 1024^2 matmul)")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
