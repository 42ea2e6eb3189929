"""Is the nested CV estimate of a search honest? Repeated 70/30 splits, each scored on its held-out rows.

For each of ``--splits`` stratified 70/30 splits of a bundled dataset (seeds 0, 1, ...), the
48-configuration space of ``benchmarks/search.py`` is searched on the 70% with ``nested=5`` (5
outer folds around the whole search, each a search on its outer training rows whose 1se choice,
refit there, is scored on the outer test rows). The 1se choice of the search on the whole 70%,
refit there, is then scored on the held-out 30%. Reported per split: the nested estimate and
its SE, the held-out deviance and its SE, the inner CV mean of the chosen point (the naive
estimate), Tibshirani and Tibshirani's optimism. Across splits: how often the held-out score is
within one nested SE, and the mean gap (held-out minus estimate) of the nested and of the naive
estimate, with the SE of that mean over splits. One split cannot tell a biased estimate from an
unlucky split; the mean gap over splits can.

    python benchmarks/search_nested.py [--splits 10] [--epochs 30] [--dataset breast_cancer] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _ab import machine, publish  # noqa: E402
from search import SPACE  # noqa: E402


def one_split(X, y, seed, epochs):
    import numpy as np
    from sklearn.model_selection import train_test_split

    from kerasnet.path import measures
    from kerasnet.search import search

    X_fit, X_test, y_fit, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    space = dict(SPACE, hidden=[tuple(h) for h in SPACE["hidden"]])
    result = search(X_fit, y_fit, space, epochs=epochs, early_stopping=False, seed=seed, verbose=0, nested=5)
    out = result.outputs(X_test)
    rows = measures.per_row("deviance", "binary", y_test, out)
    s = result.simplest_index_
    return {"nested": result.nested_["mean"], "se": result.nested_["se"],
            "held_out": measures.fold_value("deviance", "binary", y_test, out),
            "held_se": float(np.std(rows, ddof=1) / np.sqrt(len(rows))),
            "cv": float(result.cv_mean_[s]), "optimism": result.optimism_}


def _mean_gap(gaps):
    import numpy as np

    gaps = np.asarray(gaps)
    return f"{gaps.mean():+.4f} +- {gaps.std(ddof=1) / np.sqrt(len(gaps)):.4f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--dataset", default="breast_cancer")
    parser.add_argument("--out")
    options = parser.parse_args()
    from sklearn import datasets

    X, y = getattr(datasets, "load_" + options.dataset)(return_X_y=True)
    start = time.perf_counter()
    runs = [one_split(X.astype("float32"), y, seed, options.epochs) for seed in range(options.splits)]
    seconds = time.perf_counter() - start
    within = sum(abs(r["nested"] - r["held_out"]) <= r["se"] for r in runs)
    within_held = sum(abs(r["nested"] - r["held_out"]) <= r["held_se"] for r in runs)
    # The gap's own SE: the estimate's and the held-out score's noise together (independent rows).
    within_both = sum(abs(r["nested"] - r["held_out"]) <= (r["se"] ** 2 + r["held_se"] ** 2) ** 0.5
                      for r in runs)
    lines = [f"# search: the nested CV estimate against held-out rows, {options.splits} splits "
             f"({options.dataset})", "", machine(), "",
             f"Space: benchmarks/search.py's 48 configurations, {options.epochs} epochs, no early stopping; "
             f"70/30 stratified splits, seeds 0-{options.splits - 1}; {seconds:.0f} s in all.", "",
             "| split | nested estimate | its SE | held-out deviance | its SE | inner CV mean (naive) | "
             "optimism |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for seed, r in enumerate(runs):
        lines.append(f"| {seed} | {r['nested']:.4f} | {r['se']:.4f} | {r['held_out']:.4f} | "
                     f"{r['held_se']:.4f} | {r['cv']:.4f} | {r['optimism']:.4f} |")
    lines += ["",
              "- Held-out score within one nested SE of the nested estimate: "
              f"{within} of {len(runs)} splits; within one held-out SE: {within_held} of {len(runs)}; within "
              f"one SE of their difference (both SEs combined; about 68% expected of an unbiased estimate): "
              f"{within_both} of {len(runs)}.",
              "- Mean gap over splits, held-out minus estimate (+ means the estimate was optimistic): nested "
              f"{_mean_gap([r['held_out'] - r['nested'] for r in runs])}, naive inner CV "
              f"{_mean_gap([r['held_out'] - r['cv'] for r in runs])}, naive plus optimism "
              f"{_mean_gap([r['held_out'] - r['cv'] - r['optimism'] for r in runs])}.", "",
              f"Command: `python benchmarks/search_nested.py --splits {options.splits} "
              f"--epochs {options.epochs} --dataset {options.dataset}`"]
    publish(lines, options.out)


if __name__ == "__main__":
    main()
