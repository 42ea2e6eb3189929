"""The report's feature-selection sections: stability selection (``kerasnet select``) and a path's features.

Like :mod:`kerasnet.runs.sections`, each function takes what
:func:`kerasnet.runs.build_report` read from a run folder and returns ``(title, html)`` (or
an HTML fragment), or None when the folder does not hold what it needs. Every value is escaped.
"""

from __future__ import annotations

import os
import types

import numpy as np

from .html import escape, number, pairs, table
from .reading import read_csv

__all__ = ["feature_path", "selected_features_note", "stability_section"]

#: Features listed in the stability table beyond the selected ones (stability.csv holds all).
TABLE_ROWS = 30


def _wide(frame, names):
    """``(lambdas, values [L, d], names)`` of a CSV with ``lambda`` then one column per feature.

    Columns are read by position: a feature may itself be called ``lambda``. ``names`` (the
    run's feature names) replace the header when they fit it.
    """
    values = frame.to_numpy(float)
    header = [str(c) for c in frame.columns[1:]]
    names = list(names) if names is not None and len(names) == len(header) else header
    return values[:, 0], values[:, 1:], names


def feature_path(folder, metrics):
    """``(feature_path [L, d], names)`` from a feature-selection path's ``feature_path.csv``.

    ``(None, None)`` when the folder has none.
    """
    frame = read_csv(os.path.join(folder, "feature_path.csv"))
    if frame is None or frame.shape[1] < 2:
        return None, None
    _, values, names = _wide(frame, (metrics.get("data") or {}).get("feature_names"))
    return values, names


def selected_features_note(metrics) -> str | None:
    """A paragraph naming the features a feature-selection path's saved model keeps, or None."""
    info = metrics.get("path") or {}
    names = info.get("selected_features")
    if names is None:
        return None
    total = metrics.get("n_features") or (metrics.get("data") or {}).get("n_features")
    relaxed = info.get("relaxed") or {}
    how = (" The saved model is the relaxed refit (trained again on exactly these features without the "
           "feature penalty), which cross-validated better." if relaxed.get("chosen") else "")
    listed = escape(", ".join(map(str, names))) if names else "none"
    return (f"<p>Feature selection (a group lasso on the input features): the selected strength keeps "
            f"<b>{len(names)}</b>{f' of {escape(total)}' if total else ''} features: {listed}.{how}</p>")


def _stability(metrics, lambdas, probabilities, names):
    """The attributes :func:`kerasnet.plots.stability_axes` reads, from the files of a select run."""
    info = metrics["stability"]
    chosen = set(map(str, info.get("selected") or []))
    region = info.get("region_index")
    if region is None:
        region = -1 if info.get("lambda_region") is None else int(
            np.argmin(np.abs(np.log(lambdas) - np.log(float(info["lambda_region"])))))
    return types.SimpleNamespace(
        lambdas_=lambdas, probabilities_=probabilities, feature_names_=names,
        selected_=np.array([j for j, name in enumerate(names) if str(name) in chosen], int),
        threshold=float(info.get("threshold", 0.75)), region_=int(region),
        expected_false_=float(info.get("expected_false") or 0.0))


def _bound_words(info, n_half) -> str:
    k, d = info.get("n_selected", len(info.get("selected") or [])), info.get("n_features")
    threshold, pfer = info.get("threshold"), info.get("pfer")
    if info.get("lambda_region") is None:
        return (f"<p><b>No feature selected.</b> Even at the strongest penalty, the bound on false "
                f"selections exceeds the {number(pfer)} allowed; rerun with a larger --pfer or a higher "
                "--threshold.</p>")
    region = f"from {number(info.get('lambda_max'))} down to {number(info.get('lambda_region'))}"
    return (f"<p><b>{escape(k)}</b>{f' of {escape(d)}' if d else ''} features selected: those kept by at "
            f"least {number(threshold, '.0%')} of the {escape(n_half)} half-samples at some strength "
            f"{region} (the shaded region). <b>At most {number(info.get('expected_false'), '.2g')} false "
            f"selections expected</b> among them (you allowed {number(pfer)}): Meinshausen and Buhlmann's "
            "bound, which holds for complementary pairs (Shah and Samworth) when the irrelevant features "
            "are alike and the network does no worse than chance at telling them apart.</p>")


def stability_section(folder, metrics, figure):
    """The stability path figure, the bound in words, and the features with their probabilities."""
    info = metrics.get("stability")
    probabilities = read_csv(os.path.join(folder, "probabilities.csv"))
    if not isinstance(info, dict) or probabilities is None or probabilities.shape[1] < 2:
        return None
    from ..plots import stability_axes

    settings = metrics.get("settings") or {}
    n_pairs = info.get("n_pairs") or settings.get("n_pairs")
    n_half = 2 * int(n_pairs) if n_pairs else "random"
    lambdas, probs, names = _wide(probabilities, (metrics.get("data") or {}).get("feature_names"))
    stable = _stability(metrics, lambdas, probs, names)
    parts = [_bound_words(info, n_half)]
    parts.append(figure(stability_axes(stable), "stability.png",
                        "Selection probability of every feature against the strength; the threshold "
                        "(dashed) and the region where the bound holds (shaded)"))
    hidden = settings.get("hidden")
    model = (f"a network with hidden layers {', '.join(map(str, hidden))}; L2 {settings.get('hidden_l2')} on "
             "its other kernels" if hidden else "a linear model (no hidden layer)")
    base = "plain" if settings.get("adaptive") is None and "adaptive" in settings else "adaptive"
    parts.append(pairs([
        ("base procedure", f"{base} group lasso on the input features of {model}"),
        ("half-samples", f"{n_half} ({n_pairs} random splits of the rows into two halves)"
         if n_pairs else None),
        ("strengths", f"{len(lambdas)}, from {number(lambdas.max())} to {number(lambdas.min())}"),
        ("threshold", info.get("threshold")),
        ("false selections allowed (pfer)", info.get("pfer")),
        ("epochs, batch size, learning rate, patience",
         ", ".join(str(settings.get(k, "")) for k in ("epochs", "batch_size", "learning_rate", "patience"))),
    ]))
    frame = read_csv(os.path.join(folder, "stability.csv"))
    if frame is not None and {"feature", "probability", "selected"} <= set(frame.columns):
        selected = frame["selected"].astype(str).str.lower().isin(("true", "1"))
        shown = frame.loc[selected | (np.arange(len(frame)) < TABLE_ROWS)]
        rows = [(row.feature, number(row.probability, ".2f"),
                 number(getattr(row, "max_probability", None), ".2f"), "yes" if sel else "")
                for row, sel in zip(shown.itertuples(index=False), selected[shown.index], strict=True)]
        if len(shown) < len(frame):
            parts.append(f"<h3>Features ({len(shown)} most stable of {len(frame)}; stability.csv lists "
                         "all)</h3>")
        parts.append(table(["feature", "probability in the region", "largest probability", "selected"], rows,
                           ["chosen" if sel else "" for sel in selected[shown.index]]))
    return "Stability selection", "".join(parts)
