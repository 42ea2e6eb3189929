"""Does stopping dominated points early change what a search chooses? ``stop_dominated`` on and off.

``kerasnet.search`` with its defaults (cross-fit early stopping, ``epochs=None``) on the bundled
tables, the same 12-point space each, once with dominated points stopped early (the default) and
once without, each in a fresh process after an untimed one that fills the persistent XLA cache (so
neither side pays the compilation). Reported per table: wall time of the ``search`` call,
member-epochs trained, and whether the best and the simplest-within-one-SE points are the same
(with their CV means).

    python benchmarks/search_halving.py [--tables breast_cancer,wine,diabetes] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _ab import child, machine, publish  # noqa: E402

CHILD = """
import json, sys, time
from sklearn import datasets
from kerasnet.search import search
name, on = sys.argv[1], sys.argv[2] == "on"
X, y = getattr(datasets, "load_" + name)(return_X_y=True)
space = {"lambda": [1e-3, 1e-2, 1e-1], "dropout": [0.0, 0.2], "hidden": [(16,), (64,)]}
start = time.perf_counter()
result = search(X, y, space, seed=0, verbose=0, stop_dominated=on)
seconds = time.perf_counter() - start
print(json.dumps({"s": seconds, "trained": int(result.epochs_trained_.sum()), "best": result.best_index_,
                  "simplest": result.simplest_index_, "best_cv": float(result.cv_mean_[result.best_index_]),
                  "simplest_cv": float(result.cv_mean_[result.simplest_index_])}))
"""


def _child(name, on):
    return child(CHILD, name, on)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="breast_cancer,wine,diabetes")
    parser.add_argument("--out")
    options = parser.parse_args()
    lines = ["# search: dominated points stopped early, on against off", "", machine(), "",
             "| table | wall time on / off (s) | member-epochs on / off | best point on / off | "
             "simplest point on / off | same choices |", "| --- | ---: | ---: | --- | --- | --- |"]
    for name in options.tables.split(","):
        _child(name, "on")  # untimed: the persistent XLA cache holds both sides' programs after it
        off, on = _child(name, "off"), _child(name, "on")
        same = on["best"] == off["best"] and on["simplest"] == off["simplest"]
        lines.append(f"| {name} | {on['s']:.1f} / {off['s']:.1f} | {on['trained']} / {off['trained']} | "
                     f"{on['best'] + 1} ({on['best_cv']:.4g}) / {off['best'] + 1} ({off['best_cv']:.4g}) | "
                     f"{on['simplest'] + 1} ({on['simplest_cv']:.4g}) / {off['simplest'] + 1} "
                     f"({off['simplest_cv']:.4g}) | {'yes' if same else 'no'} |")
    lines += ["", "Space: lambda 1e-3, 1e-2, 1e-1 x dropout 0, 0.2 x hidden (16,), (64,); seed 0, 5-fold CV.",
              "", "Command: `python benchmarks/search_halving.py`"]
    publish(lines, options.out)


if __name__ == "__main__":
    main()
