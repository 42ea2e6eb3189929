"""``kerasnet demo``: the same network on breast cancer without and with L1-L2, side by side."""

from __future__ import annotations

import json
import os

import click
import numpy as np

from ._common import atomic_dir, check_out_dir, load_data, stdout_console

#: The demo's fixed recipe: one seed, one split, two penalties.
DATASET = "breast_cancer"
HIDDEN = (64, 64)
PENALTIES = {"no penalty": (0.0, 0.0), "L1-L2": (1e-3, 1e-2)}
SETTINGS = {"epochs": 100, "batch_size": 32, "learning_rate": 1e-3, "validation_split": 0.3, "seed": 0}
NEAR_ZERO = 1e-3


def _near_zero(model) -> float:
    """Fraction of kernel weights with |w| < NEAR_ZERO (Keras's subgradient L1 gives few exact zeros)."""
    from ..monitor import _kernels

    kernels = [np.abs(np.asarray(v)) for v in _kernels(model)]
    return float(sum(int((k < NEAR_ZERO).sum()) for k in kernels) / sum(k.size for k in kernels))


def _table(runs):
    from rich.table import Table

    first = next(iter(runs.values())).metrics
    layers = "-".join(map(str, (first["n_features"], *HIDDEN, 1)))
    table = Table(title=f"kerasnet demo: {DATASET}, MLP {layers}, same seed and split")
    table.add_column("")
    for name, (l1, l2) in PENALTIES.items():
        table.add_column(name if l1 == l2 == 0 else f"{name} (l1={l1:g}, l2={l2:g})", justify="right")
    rows = [
        ("train data loss", lambda m: f"{m['train']['data_loss']:.4f}"),
        ("validation data loss", lambda m: f"{m['validation']['data_loss']:.4f}"),
        ("gap (validation - train)", lambda m: f"{m['gap']:.4f}"),
        ("train accuracy", lambda m: f"{m['train']['accuracy']:.3f}"),
        ("validation accuracy", lambda m: f"{m['validation']['accuracy']:.3f}"),
        ("penalty", lambda m: f"{m['train']['penalty']:.4f}"),
        ("sparsity (exact zeros)", lambda m: f"{m['train']['sparsity']:.1%}"),
        (f"weights with |w| < {NEAR_ZERO:g}", lambda m: f"{m['near_zero']:.1%}"),
    ]
    for label, cell in rows:
        table.add_row(label, *(cell(runs[name].metrics) for name in PENALTIES))
    return table


@click.command("demo")
@click.option("--out", type=click.Path(), help="Also save both runs (and comparison.json) to this folder.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
def command(out, overwrite):
    """Train the same MLP on breast cancer without and with an L1-L2 penalty and compare.

    Same seed, same stratified split; the table shows that the penalty narrows the gap
    between training and validation loss.
    """
    from ._train import save_run, train

    if out is not None:
        check_out_dir(out, overwrite)
    console = stdout_console()
    features, y, source = load_data(None, None, DATASET)
    runs = {}
    for name, (l1, l2) in PENALTIES.items():
        console.print(f"training {name} (l1={l1:g}, l2={l2:g}), {SETTINGS['epochs']} epochs ...")
        run = train(
            features, y, l1=l1, l2=l2, hidden=HIDDEN, verbose=0, settings={"data": source}, **SETTINGS
        )
        m = run.metrics
        m["gap"] = m["validation"]["data_loss"] - m["train"]["data_loss"]
        m["near_zero"] = _near_zero(run.model)
        runs[name] = run
    console.print(_table(runs))
    before, after = (runs[name].metrics for name in PENALTIES)
    verdict = "narrows" if after["gap"] < before["gap"] else "does NOT narrow"
    console.print(
        f"The L1-L2 penalty {verdict} the train/validation gap: {before['gap']:.4f} -> {after['gap']:.4f} "
        f"(validation data loss {before['validation']['data_loss']:.4f} -> "
        f"{after['validation']['data_loss']:.4f})."
    )
    if out is not None:
        with atomic_dir(out, overwrite) as folder:
            summary = {}
            for name, run in runs.items():
                sub = "no_penalty" if name == "no penalty" else "l1_l2"
                os.mkdir(os.path.join(folder, sub))
                save_run(run, os.path.join(folder, sub))
                summary[sub] = run.metrics
            with open(os.path.join(folder, "comparison.json"), "w", encoding="utf-8") as fh:
                json.dump(summary, fh, indent=2, allow_nan=False)
                fh.write("\n")
        console.print(f"saved both runs to {out}")
