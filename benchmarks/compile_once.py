"""Compile once across tables: a fresh process on a table of another size, with and without buckets.

A first process fits ``fit_path`` on a table of ``n1 x d1`` with an empty XLA cache folder; a second,
fresh process fits a table of ``n2 x d2`` with the same folder. Printed for each: wall time of the
process (imports included) and the cache files it wrote. With buckets (the default) the second
table's padded shapes are the first's, so it writes nothing new; with ``KERASNET_BUCKETS=off`` it
compiles its own.

    python benchmarks/compile_once.py                      # 600 x 10, then 620 x 14, fit_path defaults
    python benchmarks/compile_once.py --settings "n_lambdas=8, cv=3, epochs=10"
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

SCRIPT = """
import sys, numpy as np, kerasnet
n, d, settings = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
X = rng.normal(size=(n, d))
y = (X[:, 0] + 0.5 * X[:, 1] - 0.5 * X[:, 2] + rng.normal(size=n) > 0).astype(int)
path = kerasnet.fit_path(X, y, seed=0, verbose=0, **eval("dict(" + settings + ")"))
print(len(path.lambdas_), float(path.cv_mean_.min()))
"""


def _files(folder):
    return {name for _, _, names in os.walk(folder) for name in names}


def _kinds(names):
    """``jit_epoch x3, ...``: the programs of the cache files ``names`` (their name before the hash)."""
    kinds = sorted(name.split("-")[0] for name in names)
    return ", ".join(f"{k} x{kinds.count(k)}" for k in sorted(set(kinds)))


def _process(cache, n, d, settings, buckets):
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_COMPILATION_CACHE_DIR",)}
    env.update(KERAS_BACKEND="jax", KERASNET_XLA_CACHE=cache, KERASNET_BUCKETS=buckets)
    before = _files(cache)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(n), str(d), settings], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return time.perf_counter() - start, _files(cache) - before, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", default="600x10")
    parser.add_argument("--second", default="620x14")
    parser.add_argument("--settings", default="", help="fit_path keyword arguments, e.g. 'n_lambdas=8, cv=3'")
    parser.add_argument("--buckets", default="on,off", help="the runs: on, off or both (on,off)")
    parser.add_argument("--list", action="store_true", help="name the programs the second process compiled")
    args = parser.parse_args()
    shapes = [tuple(int(v) for v in s.split("x")) for s in (args.first, args.second)]
    print(f"settings: {args.settings or 'defaults'}")
    for buckets in args.buckets.split(","):
        with tempfile.TemporaryDirectory() as cache:
            for label, (n, d) in zip(("first ", "second"), shapes, strict=True):
                seconds, new, out = _process(cache, n, d, args.settings, buckets)
                print(f"buckets {buckets:3} {label} {n}x{d}: {seconds:6.1f} s, {len(new):3d} new cache files "
                      f"(strengths {out[0]}, best CV {float(out[1]):.4f})", flush=True)
                if args.list and label == "second" and new:
                    print(f"  {_kinds(new)}")


if __name__ == "__main__":
    main()
