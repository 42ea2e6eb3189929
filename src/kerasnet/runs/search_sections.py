"""The report of a ``kerasnet search`` run: what to conclude, every point's CV mean, the figure.

Like :mod:`kerasnet.runs.sections`, each function takes what :func:`kerasnet.runs.build_report`
read from the run folder (``metrics.json``'s ``search`` record, ``search.csv``) and returns
``(title, html)`` or None; every value is escaped.
"""

from __future__ import annotations

import os

import numpy as np

from .html import escape, number, table
from .reading import read_csv

__all__ = ["search_figure", "search_section", "search_story"]

#: Points the report's table lists (best first); the figure shows them all.
SHOWN = 15


def _settings(point) -> str:
    hidden = ",".join(str(h) for h in point.get("hidden") or [])
    return (f"lambda {number(point.get('lambda'))}, l1_ratio {number(point.get('l1_ratio'))}, learning "
            f"rate {number(point.get('learning_rate'))}, dropout {number(point.get('dropout'))}, "
            f"hidden ({hidden})")


def search_story(metrics) -> list:
    """The "What to conclude" sentences of a search run, from its numbers."""
    record = metrics.get("search") or {}
    if not record:
        return []
    measure, best, simplest = record["measure"], record["best"], record["simplest"]
    saved = record["selected"]
    counted = (f"{record['n_points']} configurations" if record["n_points"] == record["n_configurations"]
               else f"{record['n_points']} points ({record['n_configurations']} configurations, each at its "
                    "strengths)")
    lines = [f"Of {counted}, the best CV {escape(measure)} is {number(best['cv'])} ± {number(best['cv_se'])} "
             f"(point {best['point']}: {escape(_settings(best))})."]
    if simplest["point"] != best["point"]:
        lines.append(f"The simplest point within one standard error of it is point {simplest['point']} "
                     f"({escape(_settings(simplest))}), CV {escape(measure)} {number(simplest['cv'])} ± "
                     f"{number(simplest['cv_se'])}: the folds cannot tell the two apart.")
    lines.append(f"The saved model is point {saved['point']} ({escape(record['select'])}), refit on all "
                 "rows.")
    if record["n_points"] > 1:
        lines.append(f"The best of {record['n_points']} CV means flatters: by Tibshirani and Tibshirani's "
                     f"estimate from the folds, by about {number(record['optimism'], '.3g')}.")
    nested = record.get("nested")
    if nested:
        lines.append(f"Nested cross-validation ({len(nested['folds'])} outer folds, each a whole search on "
                     f"its training rows) estimates the procedure's {escape(measure)} on new rows at "
                     f"{number(nested['mean'])} ± {number(nested['se'])}.")
    else:
        lines.append("Score the saved model on rows none of this saw, or rerun with --nested 5 for an honest "
                     "estimate of the whole search.")
    return lines


def search_figure(frame, measure):
    """Every point's CV mean ± SE, best first, the best and the simplest marked."""
    from matplotlib.figure import Figure

    score = f"cv_{measure}"
    order = frame[score].sort_values(kind="stable", na_position="last").index
    if measure in ("auc", "r2"):
        order = order[::-1]
    shown = frame.loc[order].reset_index(drop=True)
    fig = Figure(figsize=(7.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    ax.errorbar(np.arange(1, len(shown) + 1), shown[score], yerr=shown[f"{score}_se"], fmt="o", markersize=3,
                capsize=2, color="0.4", linewidth=0.8)
    marks = (("min", dict(color="C3", label="best (min)")), ("1se", dict(color="C0", label="1se")))
    for rule, style in marks:
        hit = shown.index[shown["selected"].fillna("").astype(str).str.contains(rule)]
        if len(hit):
            ax.plot(hit + 1, shown.loc[hit, score], "o", markersize=7, **style)
    first = shown.iloc[0]
    sign = -1 if measure in ("auc", "r2") else 1
    ax.axhline(first[score] + sign * first[f"{score}_se"], color="0.5", linestyle="--", linewidth=0.8,
               label="one SE from the best")
    ax.set_xlabel("point, ranked by CV mean")
    ax.set_ylabel(f"CV {measure}")
    ax.legend(fontsize="small")
    return fig


def search_section(folder, metrics, figure):
    """``("Search", html)``: the best points' settings and CV means, and every point's in a figure."""
    frame = read_csv(os.path.join(folder, "search.csv"))
    record = metrics.get("search") or {}
    if frame is None or not record:
        return None
    measure = record["measure"]
    score = f"cv_{measure}"
    parts = [figure(search_figure(frame, measure), "search.png",
                    "Every point's CV measure with 1-SE error bars, ranked (the same folds for every point)")]
    ranked = frame.sort_values(score, ascending=measure not in ("auc", "r2"), kind="stable").head(SHOWN)
    columns = ["lambda", "l1_ratio", "learning_rate", "dropout", "hidden", score, f"{score}_se", "epochs",
               "selected"]
    rows = [[str(i + 1), *(number(v) if not isinstance(v, str) else v for v in row)]
            for i, row in zip(ranked.index, ranked[columns].fillna("").itertuples(index=False), strict=True)]
    parts.append(table(["point", *columns], rows))
    parts.append(f"<p>{len(frame)} points in all (search.csv); the {min(SHOWN, len(frame))} best are listed. "
                 "Every point trained on the same folds from the same initial weights (a narrower network is "
                 "the wide one's units masked), one stacked fit per depth; each fold's score comes from rows "
                 "its member never trained or stopped on.</p>")
    return "Search", "".join(parts)
