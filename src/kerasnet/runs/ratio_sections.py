"""The report's section for a path run over several ``l1_ratio`` values (``--l1-ratio 0.1,0.5,1``).

Like :mod:`kerasnet.runs.sections`, :func:`ratios_section` takes what
:func:`kerasnet.runs.build_report` read from a run folder and returns ``(title, html)``, or None
when the folder holds no ``ratios.csv`` (a run with one value). Every value is escaped.
"""

from __future__ import annotations

import os

import numpy as np

from .html import escape, number, table
from .reading import read_csv

__all__ = ["ratio_text", "ratios_section"]


def ratio_text(ratio, given):
    """The path's ``l1_ratio`` for the report, and the values CV chose it from when several were given."""
    if isinstance(given, list) and ratio is not None:
        return f"{ratio:g} (chosen by CV from {', '.join(f'{v:g}' for v in given)})"
    return ratio


def _curves_figure(frame, score, chosen):
    """One CV curve (+-1 SE) per ``l1_ratio`` of ``ratio_paths.csv`` against the strength."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for ratio, part in frame.groupby("l1_ratio", sort=False):
        lam, mean = part["lambda"].to_numpy(float), part[score].to_numpy(float)
        se = part[f"{score}_se"].to_numpy(float) if f"{score}_se" in part else None
        width = 2.2 if np.isclose(ratio, chosen) else 1.0
        ax.errorbar(lam, mean, yerr=se, fmt="o-", markersize=3, capsize=2, linewidth=width,
                    label=f"l1_ratio {ratio:g}" + (" (chosen)" if np.isclose(ratio, chosen) else ""))
    ax.set_xscale("log")
    ax.set_xlabel("lambda (strength)")
    ax.set_ylabel(f"CV {score[3:]}")
    ax.legend(fontsize="small")
    return fig


def ratios_section(folder, metrics, figure):
    """``("l1_ratio values", html)``: each value's choice and CV measure, and their CV curves."""
    ratios = read_csv(os.path.join(folder, "ratios.csv"))
    if ratios is None or "l1_ratio" not in ratios:
        return None
    info = metrics.get("path") or {}
    chosen = info.get("l1_ratio")
    measure = info.get("measure")
    parts = []
    curves = read_csv(os.path.join(folder, "ratio_paths.csv"))
    score = f"cv_{measure}"
    if curves is not None and {"l1_ratio", "lambda", score} <= set(curves.columns) and chosen is not None:
        parts.append(figure(_curves_figure(curves, score, float(chosen)), "ratios.png",
                            "CV measure with 1-SE error bars against the strength, one curve per l1_ratio "
                            "(the same splits for every value)"))
    marks = ["chosen" if str(c) == "best" else "" for c in ratios.get("chosen", [""] * len(ratios))]
    shown = [c for c in ratios.columns if c != "chosen"]
    rows = [[number(v) if not isinstance(v, str) else v for v in r]
            for r in ratios[shown].itertuples(index=False)]
    parts.append(table(shown, rows, marks))
    parts.append("<p>Every value was cross-validated on the same splits from the same initial weights; the "
                 f"chosen one (l1_ratio <b>{number(chosen)}</b>) has the best CV {escape(measure)} at its "
                 "lambda_min. That best is the best of several, so it is an optimistic estimate of the "
                 "chosen model's error, the more so the more values competed: score the model on rows none "
                 "of this saw. The rest of this report is the chosen value's path.</p>")
    return "l1_ratio values", "".join(parts)
