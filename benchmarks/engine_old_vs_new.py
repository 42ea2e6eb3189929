"""The MLP path on the one engine against the old stacked-MLP engine, same run, same work.

Run from a clone: ``.venv/bin/python benchmarks/engine_old_vs_new.py [--baseline REF]``
(``benchmarks/typed_plan_ab.py`` is the same comparison for the typed plan of the path.)

``REF`` (default ``60baf18``, the last commit whose ``fit_path`` ran on ``kerasnet.stack``) is
exported with ``git archive`` into a temporary folder; each side runs in its own fresh Python
process (``PYTHONPATH`` pointing at that side's ``src``), alternating old, new, old, new, so a
busy machine slows both alike. Work per case: ``fit_path`` on the same data, grid, folds and
settings; the first call includes XLA compilation, the next two are warm (compiled programs
reused within the process). Cases:

- breast cancer (569 x 30), MLP 64-64, 16 strengths x 5 folds, 20 epochs, batch 32, early
  stopping off (refits trained alongside: 96 members) and on (80 CV members, then 16 refits);
- synthetic binary data, 20,000 x 50, MLP 64-64, 8 strengths x 5 folds, 3 epochs, batch 256,
  early stopping off (48 members): steady-state throughput on more rows.

Prints one table row per case: seconds (old, new) for the first and the best warm call, and
new / old ratios (below 1: the new engine is faster).
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")  # kerasnet's default; set before keras is imported
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _ab  # noqa: E402  (the benchmarks folder, whatever the working directory)

CASES = {
    "cancer, early stopping off": {"data": "cancer", "n_lambdas": 16, "epochs": 20, "batch_size": 32,
                                   "early_stopping": False},
    "cancer, early stopping on": {"data": "cancer", "n_lambdas": 16, "epochs": 20, "batch_size": 32,
                                  "early_stopping": True},
    "20k x 50, early stopping off": {"data": "synthetic", "n_lambdas": 8, "epochs": 3, "batch_size": 256,
                                     "early_stopping": False},
}


def child(case):
    """Time three fit_path calls of one case in this process; print JSON."""
    settings = dict(CASES[case])
    X, y = _ab.data(settings.pop("data"), (20_000, 50))
    _ab.three_calls(X, y, hidden=(64, 64), cv=5, learning_rate=1e-3, seed=0, verbose=0, **settings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="60baf18", help="git commit of the old engine")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    print(_ab.machine())
    with _ab.sides(args.baseline) as paths:
        print(f"old: {args.baseline}; new: working tree\n")
        print("| case | old first | new first | old warm | new warm | new/old first | new/old warm |"
              " CV deviance old / new |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for case in CASES:
            results = _ab.alternate(__file__, paths, case)
            first, warm = _ab.timings(results)
            dev = {s: results[s][0]["cv_min"] for s in results}
            print(f"| {case} | {first['old']:.2f} s | {first['new']:.2f} s | {warm['old']:.2f} s | "
                  f"{warm['new']:.2f} s | {first['new'] / first['old']:.2f} | "
                  f"{warm['new'] / warm['old']:.2f} | "
                  f"{dev['old']:.4f} / {dev['new']:.4f} |", flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
