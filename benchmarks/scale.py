"""The path at 10^4 to 10^6 rows: time against a loop of plain Keras fits, and peak memory.

Run from a clone: ``.venv/bin/python benchmarks/scale.py [--rows 100000 1000000] [--plot FILE]``

Work (the probe of issue 12): binary target with an interaction, 50 features, MLP 64-64,
16 strengths x (5 folds + 1 refit) = 96 members, batch 256, early stopping off (the refits train
alongside the folds), ``fit_path(..., epochs=E)`` with E = 3 at 10^5 rows and 1 at 10^6. Each
``fit_path`` runs in a fresh process with the persistent compilation cache off, so its time
includes XLA compilation and its peak RSS (``ru_maxrss``) is its own; "above data" subtracts the
process's peak after generating the data and importing kerasnet (peaks are Linux's ``VmHWM``
of the child itself).

The loop: the same network as plain Keras (``kerasnet.mlp`` with ``L1L2`` at one strength,
``compile_for``, ``model.fit`` on one fold's training rows, E epochs, batch 256). Four of the 96
fits are timed in one process (after one warm-up fit, as a loop would amortize compilation) and
the loop's time is 96 times their mean: the loop would run 96 such fits one after another.

``--parquet`` also streams the largest size from a Parquet file (row groups of 50,000 rows,
written beforehand, not timed): the same path with the features never all in memory; "above
data" is then the peak above the process after importing kerasnet (no data loaded).

``--plot FILE`` also runs fit_path at 10^4, 10^5, 3x10^5 and 10^6 rows (one epoch) and draws
peak memory against rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
MEMBERS, FEATURES, HIDDEN, BATCH = 96, 50, (64, 64), 256


def data(n):
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, FEATURES)).astype("float32")
    y = (X[:, 0] * X[:, 1] + X[:, 2] - X[:, 3] + rng.normal(size=n) > 0).astype(int)
    return X, y


def peak_mb():
    """This process's peak resident set in MB: Linux's ``VmHWM`` (``ru_maxrss`` would carry
    the parent's peak over the ``exec`` of a child), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_path(n, epochs):
    """fit_path in this (fresh) process: JSON with seconds and peak RSS."""
    X, y = data(n)
    import kerasnet

    before = peak_mb()
    start = time.perf_counter()
    kerasnet.fit_path(X, y, hidden=HIDDEN, n_lambdas=16, cv=5, epochs=epochs, batch_size=BATCH,
                      early_stopping=False, seed=0, verbose=0)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "before_mb": before}))


def child_parquet(n, epochs):
    """fit_path streaming the Parquet file of ``n`` rows (written by the parent)."""
    import kerasnet

    before = peak_mb()
    start = time.perf_counter()
    kerasnet.fit_path(_parquet_path(n), "label", hidden=HIDDEN, n_lambdas=16, cv=5, epochs=epochs,
                      batch_size=BATCH, early_stopping=False, seed=0, verbose=0)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "before_mb": before}))


def _parquet_path(n):
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"kerasnet-scale-{n}.parquet")


def write_parquet(n):
    import pyarrow as pa
    import pyarrow.parquet as pq

    X, y = data(n)
    table = pa.table({**{f"x{j}": X[:, j] for j in range(FEATURES)}, "label": y.astype("int8")})
    pq.write_table(table, _parquet_path(n), row_group_size=50_000)


def child_loop(n, epochs):
    """Four plain Keras fits after a warm-up: JSON with the mean seconds per fit."""
    import keras

    X, y = data(n)
    import kerasnet

    rows = slice(0, int(n * 0.8))  # one fold's training rows
    times = []
    for i in range(5):
        keras.utils.set_random_seed(i)
        lam = 10.0 ** -(1 + i % 3)
        model = kerasnet.compile_for(kerasnet.mlp(FEATURES, 1, HIDDEN, "binary", seed=i,
                                                  penalty=keras.regularizers.L1L2(lam * 0.5, lam * 0.25)),
                                     "binary")
        start = time.perf_counter()
        model.fit(X[rows], y[rows], epochs=epochs, batch_size=BATCH, verbose=0)
        if i:  # the first fit compiles; a loop pays that once
            times.append(time.perf_counter() - start)
    print(json.dumps({"per_fit": sum(times) / len(times)}))


def run(kind, n, epochs):
    env = {**os.environ, "KERASNET_XLA_CACHE": "off"}
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(n), str(epochs)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--plot", help="also sweep rows and save a memory plot here")
    parser.add_argument("--parquet", action="store_true", help="also stream the largest size from Parquet")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n, epochs = args.child
        child = {"path": child_path, "loop": child_loop, "parquet": child_parquet}[kind]
        return child(int(n), int(epochs))
    import jax
    import keras

    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, Keras {keras.__version__}, JAX {jax.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| rows | epochs | fit_path | Keras loop (96 x mean of 4 fits) | ratio | peak RSS | above data |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in args.rows:
        epochs = 3 if n <= 100_000 else 1
        path = run("path", n, epochs)
        loop = MEMBERS * run("loop", n, epochs)["per_fit"]
        above = (path["peak_mb"] - path["before_mb"]) / 1024
        ratio = loop / path["seconds"]
        print(f"| {n:,} | {epochs} | {path['seconds']:.1f} s | {loop:.1f} s | {ratio:.1f}x | "
              f"{path['peak_mb'] / 1024:.2f} GB | {above:.2f} GB |", flush=True)
    if args.parquet:
        n = max(args.rows)
        epochs = 3 if n <= 100_000 else 1
        write_parquet(n)
        try:
            streamed = run("parquet", n, epochs)
        finally:
            os.remove(_parquet_path(n))
        above = (streamed["peak_mb"] - streamed["before_mb"]) / 1024
        print(f"| {n:,}, streamed from Parquet | {epochs} | {streamed['seconds']:.1f} s | | | "
              f"{streamed['peak_mb'] / 1024:.2f} GB | {above:.2f} GB (no data in memory) |", flush=True)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        sizes = [10_000, 100_000, 300_000, 1_000_000]
        runs = [run("path", n, 1) for n in sizes]
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(sizes, [r["peak_mb"] / 1024 for r in runs], "o-", label="peak RSS")
        ax.plot(sizes, [r["before_mb"] / 1024 for r in runs], "s--", label="data + imports")
        ax.set(xscale="log", xlabel="rows (50 features)", ylabel="GB",
               title="fit_path, 96 members, MLP 64-64: peak memory")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=100)
        for n, r in zip(sizes, runs, strict=True):
            print(f"rows {n:,}: peak {r['peak_mb'] / 1024:.2f} GB, data + imports "
                  f"{r['before_mb'] / 1024:.2f} GB, {r['seconds']:.1f} s")
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
