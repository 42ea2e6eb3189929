"""The sections of the HTML report, one function each: the data, network, scores, path, weights...

Each ``*_section`` function takes what :func:`kerasnet.runs.build_report` read from a
run folder (``metrics.json``, the kernels of ``model.keras``, the folder itself, and a
:class:`kerasnet.runs.html.Figures` that embeds figures) and returns ``(title, html)``, or None
when the folder does not hold what the section needs. Every value is escaped.
"""

from __future__ import annotations

import os

import numpy as np

from ..tasks import SCORE
from .html import escape, number, pairs, table
from .ratio_sections import ratio_text
from .reading import REPORT, data_source, read_csv, read_json
from .selection_sections import feature_path, selected_features_note

__all__ = [
    "curves_section",
    "data_section",
    "divergence_note",
    "divergence_section",
    "environment_section",
    "features_section",
    "files_section",
    "network_section",
    "path_section",
    "prune_section",
    "scores_section",
    "weights_section",
]


def divergence_note(metrics: dict) -> str | None:
    """One line for the terminal and the report when a run diverged, else None."""
    if not metrics.get("diverged"):
        return None
    settings = metrics.get("settings") or {}
    reason = metrics.get("diverged_reason") or "the loss became NaN or infinite"
    return (f"training diverged ({reason}; learning rate "
            f"{settings.get('learning_rate')}, l1 {settings.get('l1')}, l2 {settings.get('l2')}): the saved "
            "model predicts nothing useful; retry with a smaller learning rate or smaller strengths, or "
            "rescale the target.")


def divergence_section(metrics):
    if not metrics.get("diverged"):
        return None
    note = escape(divergence_note(metrics))
    return "Training diverged", f"<p><b>{note}</b> Empty cells below are numbers that were not finite.</p>"


def _cv_rows(settings, data):
    """Which rows the cross-validation ran on, counted: a demo's training rows (its held-out rows
    never enter the CV), else every row."""
    if "cv" not in settings:
        return None
    if data.get("n_held_out"):
        return (f"{settings['cv']} folds of the {data.get('n_train')} training rows (the "
                f"{data['n_held_out']} held-out rows stay out of it)")
    rows = data.get("n_train") or data.get("n_rows")
    return f"{settings['cv']} folds of all {rows} rows" if rows else f"{settings['cv']} folds of all rows"


def data_section(metrics):
    data = metrics.get("data") or {}
    settings = metrics.get("settings") or {}
    task = data.get("task") or metrics.get("task")
    parts = [pairs([
        ("source", data_source(metrics) or None),
        ("target", data.get("target") or metrics.get("target")),
        ("task", task),
        ("rows", data.get("n_rows")),
        ("training / held-out rows", f"{data.get('n_train')} / {data.get('n_held_out')}"
         if data.get("n_held_out") else None),
        ("training / validation / test rows",
         " / ".join(str(data.get(k, "")) for k in ("n_train", "n_validation", "n_test"))
         if data.get("n_validation") or data.get("n_test") else None),
        ("cross-validation", _cv_rows(settings, data)),
        ("input columns", data.get("n_columns") or metrics.get("n_features_in")),
        ("features after encoding", data.get("n_features") or metrics.get("n_features")),
        ("columns left out", ", ".join(map(str, settings.get("drop") or [])) or None),
    ])]
    balance = data.get("class_balance")
    if balance:
        # A split holding every row (a path's CV) repeats the "all" column: leave it out.
        splits = [s for s in balance if s == "all" or balance[s] != balance.get("all")]
        labels = list(balance[splits[0]])
        rows = []
        for label in labels:
            row = [label]
            for split in splits:
                counts = balance[split]
                total = sum(counts.values()) or 1
                n = counts.get(label, 0)
                row.append(f"{n} ({n / total:.1%})")
            rows.append(row)
        header = ["class", *(split.replace("_", "-") for split in splits)]
        parts.append("<h3>Class balance</h3>" + table(header, rows))
    summary = data.get("target_summary")
    if summary:
        parts.append("<h3>Target</h3>" + pairs([(k, number(v)) for k, v in summary.items()]))
    survival = data.get("survival")
    if survival:
        s = survival
        parts.append("<h3>Survival target</h3>" + pairs([
            ("time column", s.get("time")), ("event column (1: the event, 0: censored)", s.get("event")),
            ("events / censored", f"{s.get('n_events')} / {s.get('n_censored')}"),
            ("median / longest time", f"{number(s.get('median_time'))} / {number(s.get('max_time'))}"),
        ]))
    return "Data", "".join(parts)


def network_section(metrics, kernels):
    model = metrics.get("model") or {}
    settings = metrics.get("settings") or {}
    layers = model.get("layers")
    if layers is None and kernels:
        shapes = [k.shape for k in kernels.values() if k.ndim == 2]
        layers = [shapes[0][0], *(s[1] for s in shapes)] if shapes else None
    penalty = model.get("penalty") or {}
    l1 = penalty.get("l1", settings.get("l1"))
    l2 = penalty.get("l2", settings.get("l2"))
    chosen = (metrics.get("path") or {}).get("lambda_selected")
    # The path's own l1_ratio: with several given (settings' list), the one chosen by CV.
    ratio = (metrics.get("path") or {}).get("l1_ratio", settings.get("l1_ratio"))
    if l1 is None and chosen is not None and ratio is not None:
        from ..penalty import lambda_to_l1_l2

        l1, l2 = lambda_to_l1_l2(float(chosen), float(ratio))
    described = (f"ElasticNet l1={l1:.4g}, l2={l2:.4g} on {penalty.get('on', 'every kernel')}"
                 if l1 is not None and l2 is not None else None)
    if settings.get("feature_selection") and chosen is not None:  # the strength is a group lasso
        described = (f"group lasso {chosen:.4g} on the input features (the first layer's rows), "
                     f"L2 {settings.get('hidden_l2')} on the other kernels")
    rows = [
        ("layers", " - ".join(map(str, layers)) if layers else None),
        ("activation", model.get("activation")),
        ("dropout", model.get("dropout")),
        ("penalty" if chosen is None else f"penalty at the selected lambda {chosen:.4g}", described),
        ("l1_ratio", None if settings.get("feature_selection")
         else ratio_text(ratio, settings.get("l1_ratio"))),
        ("proximal L1 (exact zeros)", settings.get("proximal")),
        ("parameters", model.get("n_params")),
        ("optimizer", model.get("optimizer")),
    ]
    for key in ("epochs", "batch_size", "learning_rate", "validation_split", "test_split", "cv", "n_lambdas",
                "select", "early_stopping", "patience"):
        if key in settings:
            rows.append((key.replace("_", " "), settings[key]))
    return "Network and penalty", pairs(rows)


#: What each split's rows are, as the report names them.
SPLITS = {"train": "train (the rows it was fit on)", "validation": "validation (watched, chose nothing)",
          "held_out": "held-out rows (set aside before anything was fit)", "test": "test (held out)"}


def scores_section(metrics):
    splits = [s for s in SPLITS if isinstance(metrics.get(s), dict)]
    if not splits:
        return None
    # Cox's loss is its Keras score; Harrell's C says more beside it.
    score = "cindex" if metrics.get("task") == "cox" else SCORE.get(metrics.get("task"), "accuracy")
    cols = [("n_rows", "n", "d"), ("loss", "objective (data loss + penalty)", ".4g"),
            ("data_loss", "data loss", ".4g"), ("penalty", "penalty", ".4g"), (score, score, ".4g"),
            ("sparsity", "exact zeros", ".1%")]
    cols = [c for c in cols if any(c[0] in metrics[s] for s in splits)]  # the demo's rows carry no penalty
    rows = [[SPLITS[s], *(number(metrics[s].get(k), f) if k in metrics[s] else "" for k, _, f in cols)]
            for s in splits]
    html_ = table(["rows", *(label for _, label, _ in cols)], rows)
    other = next((s for s in ("held_out", "validation") if s in splits), None)
    losses = [(metrics.get(s) or {}).get("data_loss") for s in ("train", other)]
    if other and all(isinstance(v, (int, float)) for v in losses):
        html_ += (f"<p>Gap of the data loss, {escape(SPLITS[other].split(' (')[0])} minus train: "
                  f"<b>{number(losses[1] - losses[0])}</b>.</p>")
    return "Scores", html_


def path_section(folder, metrics, figure):
    import pandas as pd

    frame = read_csv(os.path.join(folder, "path.csv"))
    if frame is None or "lambda" not in frame:
        return None
    path_info = metrics.get("path") or metrics
    score_cols = [c for c in frame.columns if c.startswith("cv_") and not c.endswith("_se")
                  and not c.startswith("cv_loss") and f"{c}_se" in frame]
    measure = path_info.get("measure")
    score = score_cols[0] if score_cols else None
    if measure and f"cv_{measure}" in frame:
        score = f"cv_{measure}"
    selected = pd.Series([""] * len(frame))
    if "selected" in frame:
        selected = frame["selected"].fillna("").astype(str)
        frame["selected"] = selected  # pandas reads the blank cells as NaN

    def chosen(rule, key):
        if path_info.get(key) is not None:
            return float(path_info[key])
        hits = frame.loc[selected.str.contains(rule), "lambda"]
        return float(hits.iloc[0]) if len(hits) else None

    lam_min, lam_1se = chosen("min", "lambda_min"), chosen("1se", "lambda_1se")
    parts = []
    if score and lam_min is not None and lam_1se is not None:
        from ..plots import path_figure

        def col(name):
            return frame[name].to_numpy(float) if name in frame else None

        norm = col("weight_norm") if "weight_norm" in frame else np.full(len(frame), np.nan)
        features, names = feature_path(folder, metrics)
        if features is not None and len(features) != len(frame):
            features = None
        fig = path_figure(col("lambda"), col(score), col(f"{score}_se"), lam_min, lam_1se, norm,
                          col("sparsity"), col("n_features"), score_name=score[3:], feature_path=features,
                          feature_names=names)
        parts.append(figure(fig, "path.png", "CV score with 1-SE error bars, lambda_min and lambda_1se; "
                                             "weight norm and sparsity along the path"
                                             + ("; each input feature's weight norm" if features is not None
                                                else "")))
        better = path_info.get("greater_is_better")
        direction = "" if better is None else f" ({'higher' if better else 'lower'} is better)"
        parts.append(f"<p>CV measure: <b>{escape(score[3:])}</b>{direction}; each fold scored at the "
                     "epoch the other folds chose. "
                     f"lambda_min = <b>{number(lam_min)}</b> (best mean CV score); lambda_1se = "
                     f"<b>{number(lam_1se)}</b> (largest strength within one standard error of the best). "
                     f"Selected: <b>{escape(path_info.get('selected', '1se'))}</b>.</p>")
    note = selected_features_note(metrics)
    if note:
        parts.append(note)
    diverged = "diverged" in frame and frame["diverged"].astype(bool).any()
    # Every other CV measure the path computed (accuracy / AUC for classes, the C-index for Cox).
    others = tuple(c for c in frame.columns if c.startswith("cv_") and not c.endswith("_se") and c != score)
    wanted = ("lambda", score, f"{score}_se" if score else None, *others, "sparsity", "n_features",
              "weight_norm", "diverged" if diverged else None, "selected")
    shown = [c for c in wanted if c in frame]
    fmt = {"sparsity": ".1%", "n_features": "d", "refit_epochs": "d"}
    rows = [[v if isinstance(v, str) else number(v, fmt.get(c, ".4g")) for c, v in zip(shown, r, strict=True)]
            for r in frame[shown].itertuples(index=False)]
    marks = ["chosen" if s else "" for s in selected]
    parts.append(table(shown, rows, marks))
    return "Regularization path", "".join(parts)


def curves_section(folder, figure, metrics):
    from ..plots import learning_curves

    history = read_csv(os.path.join(folder, "history.csv"))
    if history is not None and "loss" in history:
        fig = learning_curves(history)
        caption = ("Training vs validation objective (data loss + the whole penalty); data loss vs penalty, "
                   "per epoch")
        return "Learning curves", figure(fig, "learning_curves.png", caption)
    curves = read_csv(os.path.join(folder, "curves.csv"))
    info = metrics.get("path") or {}
    if curves is None or "loss" not in curves or curves.empty:
        return None
    epochs = info.get("refit_epochs")
    fig = learning_curves(curves, validation="CV held-out folds", mark_epoch=epochs)
    caption = (f"lambda_{info.get('selected', '1se')} = {number(info.get('lambda_selected'))}: its CV "
               "members' objective (data loss + penalty) per epoch, the mean over folds, on each member's "
               "training rows and on the fold it held out; right, the data loss against the penalty"
               + (" (Keras's loss on the standardized target)" if metrics.get("task") == "regression" else "")
               + (f"; dotted, the {epochs} epochs of the refit on all rows (chosen by the folds)"
                  if epochs else ""))
    return "Learning curves", figure(fig, "learning_curves.png", caption)


def weights_section(kernels, error, figure):
    if error:
        return "Weights", f"<p class=muted>{escape(error)}</p>"
    if not kernels:
        return None
    from ..plots import weight_histograms

    rows = [(name, "x".join(map(str, k.shape)), k.size, f"{(k == 0).mean():.1%}",
             number(float(np.abs(k).sum())), number(float(np.abs(k).max()))) for name, k in kernels.items()]
    html_ = figure(weight_histograms(kernels), "weight_histograms.png",
                   "Kernel weights per layer (log counts)")
    html_ += table(["layer", "shape", "weights", "exact zeros", "sum |W|", "max |W|"], rows)
    return "Weights per layer", html_


def features_section(folder, metrics, kernels):
    if not kernels:
        return None
    first = next((k for k in kernels.values() if k.ndim == 2), None)
    if first is None:
        return None
    names = (metrics.get("data") or {}).get("feature_names")
    if names is None:
        pre = read_json(os.path.join(folder, "preprocessing.json")) or {}
        names = pre.get("feature_names")
    if names is None or len(names) != first.shape[0]:
        names = [f"x{i}" for i in range(first.shape[0])]
    used = np.abs(first).sum(axis=1) > 0
    strength = np.abs(first).sum(axis=1)
    kept = [n for n, u in zip(names, used, strict=True) if u]
    dropped = [n for n, u in zip(names, used, strict=True) if not u]
    html_ = (f"<p><b>{len(kept)}</b> of {len(names)} input features have a nonzero first-layer weight"
             + (" (every feature is still used)." if not dropped else ".") + "</p>")
    if dropped:
        html_ += f"<p>Dropped (all-zero rows): {escape(', '.join(map(str, dropped)))}</p>"
    order = np.argsort(-strength)[:30]
    rows = [(names[i], number(float(strength[i])), "yes" if used[i] else "no") for i in order]
    html_ += "<h3>Largest first-layer weights (sum |W| per feature, top 30)</h3>"
    html_ += table(["feature", "sum |W| of its row", "kept"], rows)
    return "Features kept", html_


def prune_section(metrics):
    info = metrics.get("prune") or metrics.get("pruned")
    if not isinstance(info, dict):
        return None
    rows = [("parameters before", info.get("params_before")), ("parameters after", info.get("params_after"))]
    if info.get("params_before"):
        rows.append(("size after / before", f"{info.get('params_after', 0) / info['params_before']:.1%}"))
    kept = info.get("kept_features")
    if kept is not None:
        rows.append(("features kept", f"{len(kept)} of {info.get('n_features', '?')}"))
        names = info.get("feature_names")
        if names:
            rows.append(("kept features", ", ".join(map(str, names))))
    for layer, (before, after) in (info.get("units") or {}).items():
        rows.append((f"units {layer}", f"{before} -> {after}"))
    if info.get("file"):
        rows.append(("file", info["file"]))
    return "Pruned model", pairs(rows)


def environment_section(metrics):
    env = metrics.get("environment") or {}
    command = metrics.get("command") or {}
    rows = [("command line", command.get("line"))]
    for key in ("kerasnet", "keras", "backend", "python", "numpy"):
        rows.append((key, env.get(key)))
    for name, version in (env.get("packages") or {}).items():
        rows.append((name, version if version else "not installed"))
    rows += [("platform", env.get("platform")), ("seed", env.get("seed", (metrics.get("settings") or {})
                                                              .get("seed"))), ("created", env.get("created"))]
    if not env:
        rows.append(("note", "this run recorded no environment (written by an older kerasnet)"))
    return "Environment", pairs(rows)


def files_section(folder, extra):
    """The folder's files with their sizes; ``extra``: {name: size} of the figures about to be written."""
    names = sorted(set(os.listdir(folder)) | set(extra) | {REPORT})
    rows = []
    for name in names:
        path = os.path.join(folder, name)
        if name.startswith("."):
            continue
        kind = ("folder" if os.path.isdir(path) else f"{extra[name]:,} bytes" if name in extra else
                f"{os.path.getsize(path):,} bytes" if os.path.isfile(path) else "")
        rows.append((name, kind))
    return "Files", table(["file", "size"], rows)
