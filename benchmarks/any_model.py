"""fit_path(model=...) vs a sequential loop of plain Keras fits, on a CNN and an Embedding model.

Run: ``.venv/bin/python benchmarks/any_model.py``

Two user-built Keras models, each with K = 48 CV members (12 strengths x 4 stratified folds)
plus one refit on all rows per strength (12), so 60 fits per side:

- CNN on digits (1797 8x8x1 images scaled to [0, 1]): Conv2D(8, 3, relu) -> MaxPooling2D ->
  Flatten -> Dense(10, softmax); sparse categorical cross-entropy.
- Embedding model on synthetic tabular data (2000 rows): a category with 20 levels whose
  effect matters -> Embedding(20, 4) -> Flatten, concatenated with 4 numeric features ->
  Dense(16, relu) -> Dense(1, sigmoid); binary cross-entropy.

Both sides: the same explicit grid (12 strengths, l1_ratio 0.5), the same StratifiedKFold,
Adam lr 1e-3, batch 32, EPOCHS epochs, no early stopping (every fit trains the same epochs),
and every kernel and embedding penalized. The path: ``kerasnet.fit_path(X, y, model=builder,
lambdas=grid, cv=folds, ...)`` (first call, so XLA compilation is included). The loop: for each
(strength, fold) a fresh model from the same builder with ``kernel_regularizer`` /
``embeddings_regularizer = keras.regularizers.L1L2(l1=lam*l1_ratio, l2=lam*(1-l1_ratio)/2)``,
compiled with the task's loss, ``model.fit`` on the fold's training rows and scored on its test
rows; then for each strength the same fit on all rows (the path refits every strength too).
CV accuracy per strength is the test-size-weighted mean over folds on both sides. Both run in
one process, so the ratio holds on a busy machine.
"""

from __future__ import annotations

import os
import platform
import time

os.environ.setdefault("KERAS_BACKEND", "jax")  # kerasnet's default; set before keras is imported

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

import kerasnet  # noqa: E402

EPOCHS, BATCH, LR, L1_RATIO, N_LAMBDAS, FOLDS, SEED = 6, 32, 1e-3, 0.5, 12, 4, 0


def cnn(reg=None):
    keras.utils.set_random_seed(SEED)
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(8, 3, activation="relu", kernel_regularizer=reg)(inputs)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Flatten()(h)
    outputs = keras.layers.Dense(10, activation="softmax", kernel_regularizer=reg)(h)
    return keras.Model(inputs, outputs)


N_LEVELS, N_NUMERIC = 20, 4


def embedding_model(reg=None):
    keras.utils.set_random_seed(SEED)
    category = keras.Input((1,), dtype="int32")
    numbers = keras.Input((N_NUMERIC,))
    e = keras.layers.Embedding(N_LEVELS, 4, embeddings_regularizer=reg)(category)
    h = keras.layers.Concatenate()([keras.layers.Flatten()(e), numbers])
    h = keras.layers.Dense(16, activation="relu", kernel_regularizer=reg)(h)
    outputs = keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=reg)(h)
    return keras.Model([category, numbers], outputs)


def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).reshape(-1, 8, 8, 1).astype("float32"), y


def synthetic(n=2000, seed=0):
    """A 20-level category (effects from N(0, 1.5^2)) plus 4 numeric features (2 matter)."""
    rng = np.random.default_rng(seed)
    category = rng.integers(0, N_LEVELS, n)
    numbers = rng.normal(size=(n, N_NUMERIC)).astype("float32")
    effect = rng.normal(0, 1.5, N_LEVELS)
    logit = effect[category] + 1.0 * numbers[:, 0] - 0.8 * numbers[:, 1]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype("int64")
    return [category.reshape(-1, 1).astype("int32"), numbers], y


def rows(X, index):
    return [a[index] for a in X] if isinstance(X, list) else X[index]


def run_path(builder, X, y, grid, folds):
    t = time.perf_counter()
    path = kerasnet.fit_path(X, y, model=builder, lambdas=grid, cv=folds, l1_ratio=L1_RATIO, epochs=EPOCHS,
                             batch_size=BATCH, learning_rate=LR, early_stopping=False, seed=SEED, verbose=0)
    elapsed = time.perf_counter() - t
    return elapsed, 1.0 - path.cv_summary("class")[0]


def run_loop(builder, loss, X, y, grid, folds):
    splits = list(folds.split(np.zeros(len(y)), y))
    sizes = np.array([len(test) for _, test in splits], float)
    accuracy = np.zeros((len(grid), len(splits)))
    t = time.perf_counter()
    for i, lam in enumerate(grid):
        reg = keras.regularizers.L1L2(l1=lam * L1_RATIO, l2=lam * (1 - L1_RATIO) / 2)
        fits = [*splits, (np.arange(len(y)), None)]  # the 4 folds, then the refit on all rows
        for f, (train, test) in enumerate(fits):
            model = builder(reg)
            model.compile(optimizer=keras.optimizers.Adam(LR), loss=loss, metrics=["accuracy"])
            model.fit(rows(X, train), y[train], epochs=EPOCHS, batch_size=BATCH, verbose=0)
            if test is not None:
                accuracy[i, f] = model.evaluate(rows(X, test), y[test], batch_size=4096, verbose=0,
                                                return_dict=True)["accuracy"]
    elapsed = time.perf_counter() - t
    return elapsed, accuracy @ sizes / sizes.sum()


def main():
    load_before = os.getloadavg()
    machine = (f"{platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
               f"Python {platform.python_version()}, keras {keras.__version__} ({keras.backend.backend()}), "
               f"jax {jax.__version__}")
    print(f"machine: {machine}\nload average before: {load_before}", flush=True)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    grid = np.geomspace(3e-2, 3e-5, N_LAMBDAS)
    cases = [("CNN, digits (1797 x 8x8x1), 10 classes", cnn, "sparse_categorical_crossentropy", *digits()),
             ("Embedding(20 levels) + 4 numbers, synthetic (2000 rows), binary", embedding_model,
              "binary_crossentropy", *synthetic())]
    table = ["| model | K (strengths x folds) + refits | loop of Keras fits (s) | fit_path, first call (s) | "
             "ratio | best CV accuracy, loop | best CV accuracy, path |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    ratios = []
    for name, builder, loss, X, y in cases:
        t_path, acc_path = run_path(builder, X, y, grid, folds)
        print(f"{name}: path {t_path:.1f} s", flush=True)
        t_loop, acc_loop = run_loop(builder, loss, X, y, grid, folds)
        print(f"{name}: loop {t_loop:.1f} s", flush=True)
        ratios.append(t_loop / t_path)
        table.append(f"| {name} | {N_LAMBDAS * FOLDS} ({N_LAMBDAS} x {FOLDS}) + {N_LAMBDAS} | {t_loop:.1f} | "
                     f"{t_path:.1f} | {ratios[-1]:.1f}x | "
                     f"{np.max(acc_loop):.3f} | {np.nanmax(acc_path):.3f} |")
    print()
    print("\n".join(table))
    print(f"\nepochs {EPOCHS}, batch {BATCH}, Adam lr {LR}, l1_ratio {L1_RATIO}, "
          f"grid geomspace(3e-2, 3e-5, {N_LAMBDAS}), StratifiedKFold({FOLDS}, shuffle, seed {SEED})")
    print(f"load average before: {load_before}, after: {os.getloadavg()}")
    print(f"goal >= 10x at K = 48: {'met' if min(ratios) >= 10 else 'not met'} "
          f"(ratios {', '.join(f'{r:.1f}x' for r in ratios)})")


if __name__ == "__main__":
    main()
