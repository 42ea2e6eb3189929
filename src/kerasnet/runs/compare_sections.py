"""The report's section for ``kerasnet compare``: no penalty, L1, L2 and L1-L2 side by side.

Like :mod:`kerasnet.runs.sections`, :func:`compare_section` takes what
:func:`kerasnet.runs.build_report` read from a run folder (one sub-folder per variant) and returns
``(title, html)``. Every value is escaped.
"""

from __future__ import annotations

import os

import numpy as np

from ..tasks import SCORE
from .html import escape, number, table
from .metrics import read_metrics
from .reading import load_kernels, read_csv

__all__ = ["compare_section"]


def compare_section(folder, metrics, figure):
    from ..plots import compare_figure, compare_histograms

    variants = metrics["variants"]
    score = SCORE.get(metrics.get("task"), "accuracy")
    histories, summary, weights, rows = {}, {}, {}, []
    for name, info in variants.items():
        sub = os.path.join(folder, info.get("folder", name))
        history = read_csv(os.path.join(sub, "history.csv"))
        if history is not None:
            histories[name] = history
        m = read_metrics(sub) if os.path.isfile(os.path.join(sub, "metrics.json")) else {}
        kernels, _ = load_kernels(sub)
        if kernels:
            weights[name] = np.concatenate([k.ravel() for k in kernels.values()])
        train, valid, test = m.get("train") or {}, m.get("validation") or {}, m.get("test") or {}
        gap = valid["data_loss"] - train["data_loss"] if train and valid else None
        summary[name] = {"gap": gap, "test": test.get(score), "sparsity": train.get("sparsity"),
                         "near_zero": info.get("near_zero")}
        rows.append([name, number(info.get("l1")), number(info.get("l2")),
                     number(train.get("data_loss")), number(valid.get("data_loss")),
                     number(gap, ".3g"), number(train.get(score)),
                     number(valid.get(score)), number(test.get(score)),
                     number(train.get("sparsity"), ".1%"), number(info.get("near_zero"), ".1%")])
    parts = [f"<p>{escape(metrics.get('strengths_note', ''))}</p>"]
    parts.append(table(["variant", "l1", "l2", "train data loss", "validation data loss", "gap",
                         f"train {score}", f"validation {score}", f"test {score}", "exact zeros",
                         f"|w| < {metrics.get('near_zero_threshold', 1e-3):g}"], rows))
    if histories:
        near = f"|w| < {metrics.get('near_zero_threshold', 1e-3):g}"
        parts.append(figure(compare_figure(histories, summary, score_name=score, near_zero_label=near),
                            "compare.png",
                            "Learning curves, train/validation gap, test score and sparsity per penalty"))
    if weights:
        parts.append(figure(compare_histograms(weights), "compare_weights.png",
                            "All kernel weights per penalty (log counts)"))
    return "No penalty vs L1 vs L2 vs L1-L2", "".join(parts)
