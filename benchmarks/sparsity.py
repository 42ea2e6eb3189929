"""Exact sparsity benchmark: subgradient vs proximal L1, pruning, and feature selection vs LassoNet.

Run (LassoNet is benchmark-only: install it outside the project, e.g.
``pip install --target .benchlib --no-deps lassonet sortedcontainers tqdm``)::

    PYTHONPATH=.benchlib .venv/bin/python benchmarks/sparsity.py

Datasets: scikit-learn's breast cancer (binary, 30 features) and digits (10 classes, 64
features); one stratified 75/25 train/validation split (random_state=0), standardized on the
training rows. Prints Markdown tables.

Part 1, same strengths, two modes: MLP (64, 64), ``ElasticNet(l1)`` on every kernel, Adam
(lr 1e-3), batch 32, fixed epochs; ``proximal=False`` (Keras's subgradient L1) vs
``proximal=True``. Reports the exact-zero fraction of the kernels, parameters after
``kerasnet.prune`` and validation accuracy.

Part 2, feature selection: one hidden layer of 64 units for both methods.

- kerasnet: a warm-started path, ``GroupLasso(s)`` on the first layer (exact group
  proximal step in Adam's metric), s growing from 1e-3 by a ratio adapted to the feature
  counts on the training rows (between 1.02 and 2; halved after a step that removed more
  than max(1, 10%) of the features, grown after one that removed none), each point
  continuing from the previous weights (``kerasnet.penalize``) for 60 epochs of batch 256
  (the first for the full epoch count at batch 32).
- LassoNet: ``LassoNetClassifier(hidden_dims=(64,))`` path (its own defaults, with its
  internal 10% validation split of the training rows for early stopping).

For each feature budget ``k`` the table shows the best validation accuracy among the path
points using at most ``k`` features (the same rule for both methods), and the validation
accuracy of an unpenalized MLP (64,) refit on exactly ``k`` features: those that stay
longest on the path (the same ranking and the same refit for both methods' paths; mean of
3 refit seeds).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import kerasnet  # noqa: F401  (chooses the Keras backend before keras is imported)

# isort: split
import keras
import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from kerasnet.models import compile_for, mlp
from kerasnet.monitor import kernel_sparsity
from kerasnet.penalize import penalize
from kerasnet.penalty import ElasticNet, GroupLasso
from kerasnet.prune import prune, selected_features

DATASETS = {"breast_cancer": load_breast_cancer, "digits": load_digits}
L1_STRENGTHS = {"breast_cancer": (1e-4, 3e-4, 1e-3), "digits": (3e-4, 1e-3, 3e-3)}
EPOCHS = {"breast_cancer": 100, "digits": 60}
# Group-lasso path: strengths from PATH_START, ratio between points adapted in
# [MIN_RATIO, MAX_RATIO] (see kerasnet_path); each point trains PATH_EPOCHS epochs (compiling
# the model for a new strength costs more than these epochs on this data).
PATH_START = 1e-3
MIN_RATIO, MAX_RATIO = 1.02, 2.0
MAX_PATH_POINTS = 200
PATH_EPOCHS, PATH_BATCH = 60, 256  # larger batches: less noise in which features cross zero
REFIT_SEEDS = (0, 1, 2)
BUDGETS = {"breast_cancer": (2, 3, 5, 10, 20, 30), "digits": (5, 10, 20, 30, 40, 64)}


def load(name):
    X, y = DATASETS[name](return_X_y=True)
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_tr)
    return (
        scaler.transform(X_tr).astype("float32"),
        scaler.transform(X_va).astype("float32"),
        y_tr.astype("int64"),
        y_va.astype("int64"),
    )


def task_of(y):
    return ("binary", 1) if len(np.unique(y)) == 2 else ("multiclass", int(y.max()) + 1)


def fit_kerasnet(X_tr, y_tr, X_va, y_va, epochs, seed=0, **mlp_kwargs):
    keras.utils.set_random_seed(seed)
    task, n_out = task_of(y_tr)
    model = mlp(X_tr.shape[1], n_outputs=n_out, task=task, seed=seed, **mlp_kwargs)
    compile_for(model, task, learning_rate=1e-3)
    target = y_tr.astype("float32") if task == "binary" else y_tr
    model.fit(X_tr, target, epochs=epochs, batch_size=32, verbose=0)
    pred = model.predict(X_va, verbose=0)
    labels = (pred[:, 0] > 0.5).astype(int) if task == "binary" else pred.argmax(axis=1)
    return model, float(np.mean(labels == y_va))


def part1(name):
    X_tr, X_va, y_tr, y_va = load(name)
    rows = []
    for l1 in L1_STRENGTHS[name]:
        for proximal in (False, True):
            start = time.perf_counter()
            model, acc = fit_kerasnet(
                X_tr,
                y_tr,
                X_va,
                y_va,
                EPOCHS[name],
                hidden=(64, 64),
                penalty=ElasticNet(l1=l1, proximal=proximal),
            )
            small, report = prune(model)
            rows.append(
                f"| {name} | {l1:g} | {'proximal' if proximal else 'subgradient'} | "
                f"{kernel_sparsity(model):.1%} | {len(report.kept_features)}/{report.n_features} | "
                f"{report.params_before} -> {report.params_after} | {acc:.3f} | "
                f"{time.perf_counter() - start:.1f} |"
            )
    return rows


def kerasnet_path(X_tr, y_tr, X_va, y_va, epochs):
    """Warm-started GroupLasso path, like LassoNet's: each strength continues from the last.

    The strength grows geometrically from ``PATH_START``; the ratio adapts to the feature
    counts on the training rows only (no validation data): it is halved in log (down to
    ``MIN_RATIO``) after a step that removed more than ``max(1, 10%)`` of the features, and
    grown by half in log (up to ``MAX_RATIO``) after a step that removed none. So strengths
    are coarse where nothing happens and finer where features leave.
    """
    keras.utils.set_random_seed(0)
    task, n_out = task_of(y_tr)
    target = y_tr.astype("float32") if task == "binary" else y_tr
    model = mlp(X_tr.shape[1], n_outputs=n_out, task=task, hidden=(64,), seed=0)
    points, strength, log_ratio, previous = [], PATH_START, np.log(MAX_RATIO), X_tr.shape[1]
    for i in range(MAX_PATH_POINTS):
        model = penalize(model, GroupLasso(float(strength)), layers="hidden_1")
        compile_for(model, task, learning_rate=1e-3)
        if i == 0:
            model.fit(X_tr, target, epochs=epochs, batch_size=32, verbose=0)
        else:
            model.fit(X_tr, target, epochs=PATH_EPOCHS, batch_size=PATH_BATCH, verbose=0)
        pred = model.predict(X_va, verbose=0)
        labels = (pred[:, 0] > 0.5).astype(int) if task == "binary" else pred.argmax(axis=1)
        kept = selected_features(model).indices.tolist()
        points.append((len(kept), float(np.mean(labels == y_va)), kept))
        removed = previous - len(kept)
        if removed > max(1, 0.1 * previous):
            log_ratio = max(log_ratio / 2, np.log(MIN_RATIO))
        elif removed <= 0:
            log_ratio = min(log_ratio * 1.5, np.log(MAX_RATIO))
        previous = len(kept)
        if len(kept) <= 1:
            break
        strength *= float(np.exp(log_ratio))
    return points


def lassonet_path(X_tr, y_tr, X_va, y_va, cache=None):
    if cache is not None and os.path.exists(cache):
        with open(cache, encoding="utf-8") as fh:
            return [tuple(p) for p in json.load(fh)], float("nan")
    from lassonet import LassoNetClassifier

    start = time.perf_counter()
    model = LassoNetClassifier(hidden_dims=(64,), random_state=0, torch_seed=0, verbose=0)
    path = model.path(X_tr, y_tr, return_state_dicts=True)
    points = []
    for item in path:
        model.load(item.state_dict)
        kept = np.flatnonzero(np.asarray(item.selected)).tolist()
        points.append((len(kept), float(np.mean(model.predict(X_va) == y_va)), kept))
    seconds = time.perf_counter() - start
    if cache is not None:
        with open(cache, "w", encoding="utf-8") as fh:
            json.dump(points, fh)
    return points, seconds


def cell(value):
    return "-" if np.isnan(value) else f"{value:.3f}"


def best_within(points, k):
    accs = [acc for n, acc, _ in points if 0 < n <= k]
    return max(accs) if accs else float("nan")


def leaving_order(points, n_features):
    """Features ranked by how long they stay on the path: the last to leave first.

    A feature's rank is the last path point that still uses it (features can re-enter);
    ties (features leaving at the same point) go to the lower index. The same rule ranks
    both methods' paths.
    """
    last = np.full(n_features, -1)
    for i, (_, _, kept) in enumerate(points):
        last[kept] = i
    return sorted(range(n_features), key=lambda j: (-last[j], j))


def refit_top(points, k, X_tr, y_tr, X_va, y_va, epochs):
    """Mean validation accuracy of unpenalized MLPs (64,), one per seed in REFIT_SEEDS, refit
    on exactly the k features that stay longest on the path."""
    # Sorted: the same feature set gives the same refit, whichever path ranked it.
    kept = sorted(leaving_order(points, X_tr.shape[1])[:k])
    accs = [
        fit_kerasnet(X_tr[:, kept], y_tr, X_va[:, kept], y_va, epochs, seed=seed, hidden=(64,))[1]
        for seed in REFIT_SEEDS
    ]
    return float(np.mean(accs))


def part2(name, with_lassonet, cache_dir):
    X_tr, X_va, y_tr, y_va = load(name)
    start = time.perf_counter()
    ours = kerasnet_path(X_tr, y_tr, X_va, y_va, EPOCHS[name])
    t_ours = time.perf_counter() - start
    theirs, t_theirs = None, float("nan")
    if with_lassonet:
        cache = None if cache_dir is None else os.path.join(cache_dir, f"lassonet_{name}.json")
        theirs, t_theirs = lassonet_path(X_tr, y_tr, X_va, y_va, cache)
    rows = []
    for k in BUDGETS[name]:
        cells = [
            cell(best_within(ours, k)),
            cell(refit_top(ours, k, X_tr, y_tr, X_va, y_va, EPOCHS[name])),
        ]
        if theirs is None:
            cells += ["n/a", "n/a"]
        else:
            cells += [
                cell(best_within(theirs, k)),
                cell(refit_top(theirs, k, X_tr, y_tr, X_va, y_va, EPOCHS[name])),
            ]
        rows.append(f"| {name} | <= {k} | " + " | ".join(cells) + " |")
    detail = ", ".join(f"{n}:{a:.3f}" for n, a, _ in ours)
    notes = [f"- {name}: kerasnet path (features:accuracy) {detail}; {t_ours:.0f} s"]
    if theirs is not None:
        notes.append(f"- {name}: LassoNet path has {len(theirs)} points; {t_theirs:.0f} s (nan: cached)")
    return rows, notes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-lassonet", action="store_true", help="skip the LassoNet comparison")
    parser.add_argument("--part", choices=("1", "2", "all"), default="all")
    parser.add_argument(
        "--lassonet-cache", metavar="DIR", help="reuse / store LassoNet's path points here (slow to compute)"
    )
    args = parser.parse_args()
    print(f"backend: {keras.backend.backend()}\n")
    if args.part in ("1", "all"):
        print("| data | l1 | mode | exact zeros | features kept | params (pruned) | val acc | s |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for name in DATASETS:
            print("\n".join(part1(name)), flush=True)
    if args.part == "1":
        return
    print(
        "\n| data | features | kerasnet GroupLasso path | kerasnet selection + refit "
        "| LassoNet path | LassoNet selection + refit |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    notes = []
    for name in DATASETS:
        rows, more = part2(name, not args.no_lassonet, args.lassonet_cache)
        print("\n".join(rows), flush=True)
        notes += more
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    main()
