"""What buckets cost a warm fit on small tables: ``fit_path`` defaults with buckets and without.

Each side (``KERASNET_BUCKETS`` on / off) of each table runs in fresh processes, alternating (off,
on, off, on ...) so load hits both, each side with its own XLA cache folder warmed by one untimed
process first. Reported per table: every timed ``fit_path`` call's wall time (imports excluded),
the median of each side, their ratio, and whether lambda_min, lambda_1se and the CV member-epochs
were the same (buckets must change no number).

    python benchmarks/buckets_warm.py [--tables breast_cancer,diabetes,binary-1000,regression-1000]
                                      [--rounds 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _ab import machine  # noqa: E402

CHILD = """
import json, sys, time
import numpy as np
import kerasnet
from sklearn import datasets
name = sys.argv[1]
if "-" in name:
    kind, n = name.split("-")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(int(n), 20))
    f = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] ** 2 - 0.5
    noise = rng.normal(size=len(X))
    y = (f + noise > 0).astype(int) if kind == "binary" else f + 0.5 * noise
else:
    X, y = {"breast_cancer": datasets.load_breast_cancer, "diabetes": datasets.load_diabetes,
            "wine": datasets.load_wine}[name](return_X_y=True)
start = time.perf_counter()
path = kerasnet.fit_path(X, y, seed=0, verbose=0)
seconds = time.perf_counter() - start
print(json.dumps({"s": seconds, "min": int(path.index_min_), "1se": int(path.index_1se_),
                  "epochs": int(np.isfinite(path.history_["cv"].loss).sum())}))
"""


def _child(name, buckets, cache):
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    env.update(KERAS_BACKEND="jax", KERASNET_BUCKETS=buckets, KERASNET_XLA_CACHE=cache)
    out = subprocess.run([sys.executable, "-c", CHILD, name], env=env, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="breast_cancer,diabetes,binary-1000,regression-1000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    head = "| table | off: warm s | on: warm s | median on / off | same choices and epochs |"
    lines = [machine(), "", head, "| --- | --- | --- | ---: | --- |"]
    print(lines[0], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.tables.split(","):
            caches = {side: os.path.join(tmp, f"{name}-{side}") for side in ("off", "on")}
            for side in ("off", "on"):
                _child(name, side, caches[side])  # untimed: fills this side's cache
            runs = {"off": [], "on": []}
            for _ in range(args.rounds):
                for side in ("off", "on"):
                    runs[side].append(_child(name, side, caches[side]))
            med = {side: statistics.median(r["s"] for r in runs[side]) for side in runs}
            same = all((r["min"], r["1se"], r["epochs"]) == (runs["off"][0]["min"], runs["off"][0]["1se"],
                                                            runs["off"][0]["epochs"])
                       for side in runs for r in runs[side])
            show = {side: ", ".join(f"{r['s']:.1f}" for r in runs[side]) for side in runs}
            line = (f"| {name} | {show['off']} | {show['on']} | {med['on'] / med['off']:.2f}x | "
                    f"{'yes' if same else 'NO'} |")
            lines.append(line)
            print(line, flush=True)
    lines += ["", f"load average at the end {os.getloadavg()[0]:.1f}"]
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
