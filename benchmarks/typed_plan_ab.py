"""The path on the typed plan (rows on the device once) against the code before it, same run, same work.

Run from a clone: ``.venv/bin/python benchmarks/typed_plan_ab.py [--baseline REF] [--cases a,b]``

``REF`` (default ``d73ad09``, the last commit before the typed plan, whose ``fit_path`` sent X to
the device for every fit and inference pass) is exported with ``git archive`` into a temporary
folder; each side runs in its own fresh Python process (``PYTHONPATH`` pointing at that side's
``src``), alternating old, new, old, new, so a busy machine slows both alike. Each process times
three ``fit_path`` calls of its case: the first includes XLA compilation, the other two are warm.
Cases (all ``seed=0``, ``verbose=0``):

- ``cancer``: breast cancer (569 x 30), MLP 64-64, 16 strengths x 5 folds, 20 epochs, early
  stopping, baselines off (CV fit, refit, deviance explained: 3 uploads before);
- ``cancer-default``: breast cancer, ``n_lambdas=8``, 20 epochs, everything else the default
  (the grid probe, the null-top check, the linear baseline: 13 uploads before);
- ``selection``: breast cancer, ``feature_selection=True, relax=True``, 8 strengths, 20 epochs
  (dense starts, two group lambda_max, three stages: 12 uploads before);
- ``250k``: synthetic binary 250,000 x 20, MLP 16, 4 strengths x 3 folds, 2 epochs, batch 256,
  baselines off: where a pass over the rows outside training is largest.

Prints one table row per case: seconds (old, new) for the first and the best warm call, the
new / old ratios (below 1: the typed plan is faster), and the CV measure at ``lambda_min`` of
each side (the same numbers: the golden tests hold them to 1e-4).
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")  # kerasnet's default; set before keras is imported
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _ab  # noqa: E402  (the benchmarks folder, whatever the working directory)

CASES = {
    "cancer": {"data": "cancer", "n_lambdas": 16, "epochs": 20, "baselines": False},
    "cancer-default": {"data": "cancer", "n_lambdas": 8, "epochs": 20},
    "selection": {"data": "cancer", "n_lambdas": 8, "epochs": 20, "feature_selection": True, "relax": True,
                  "baselines": False},
    "250k": {"data": "synthetic", "lambdas": [0.1, 0.03, 0.01, 0.003], "epochs": 2, "batch_size": 256,
             "cv": 3, "hidden": (16,), "baselines": False},
}


def child(case):
    """Time three fit_path calls of one case in this process; print JSON."""
    settings = dict(CASES[case])
    X, y = _ab.data(settings.pop("data"), (250_000, 20))
    _ab.three_calls(X, y, seed=0, verbose=0, **settings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="d73ad09", help="git commit of the code before the typed plan")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    print(_ab.machine())
    with _ab.sides(args.baseline) as paths:
        print(f"old: {args.baseline}; new: working tree\n")
        print("| case | old first | new first | old warm | new warm | new/old first | new/old warm |"
              " CV measure at lambda_min, old / new |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for case in args.cases.split(","):
            results = _ab.alternate(__file__, paths, case)
            first, warm = _ab.timings(results)
            best = {s: results[s][0]["cv_min"] for s in results}
            print(f"| {case} | {first['old']:.2f} s | {first['new']:.2f} s | {warm['old']:.2f} s | "
                  f"{warm['new']:.2f} s | {first['new'] / first['old']:.2f} | "
                  f"{warm['new'] / warm['old']:.2f} | {best['old']:.4f} / {best['new']:.4f} |", flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
