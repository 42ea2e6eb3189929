"""The floor: FLOPs of the training work over this machine's measured matmul rate."""

from __future__ import annotations

import time

import numpy as np


def matmul_rate(n=1024, repeats=20):
    """Sustained float32 GFLOP/s of one large ``n x n`` matmul on Keras's backend (best of runs)."""
    import keras

    a = keras.ops.convert_to_tensor(np.random.default_rng(0).normal(size=(n, n)).astype("float32"))
    b = keras.ops.convert_to_tensor(np.random.default_rng(1).normal(size=(n, n)).astype("float32"))
    keras.ops.convert_to_numpy(keras.ops.matmul(a, b))  # warm-up
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        keras.ops.convert_to_numpy(keras.ops.matmul(a, b))
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def mlp_train_flops(sizes, rows_seen):
    """FLOPs to train an MLP of layer ``sizes`` (e.g. (30, 64, 64, 1)) on ``rows_seen`` rows.

    Forward is 2 FLOPs per weight per row; the backward pass is twice that (gradients for
    activations and weights), so 6 FLOPs per weight per row seen. Biases, activations,
    the loss and the optimizer update are ignored (a lower bound).
    """
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return 6.0 * weights * rows_seen


def mlp_eval_flops(sizes, rows):
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return 2.0 * weights * rows
