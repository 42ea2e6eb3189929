"""The report's reading of the numbers: "what to conclude", and the demo's comparison of models.

Every sentence is written from ``metrics.json``'s numbers (nothing is assumed), as the
terminal's closing lines are.
"""

from __future__ import annotations

import os

from ..tasks import SCORE
from .html import escape, number, table
from .reading import read_csv

__all__ = ["comparison_section", "conclusion_section"]

#: The demo's models, in the order they are shown.
_MODELS = {"plain": "no penalty (plain Keras)", "min": "lambda_min", "1se": "lambda_1se"}


def _score_name(metrics):
    return "cindex" if metrics.get("task") == "cox" else SCORE.get(metrics.get("task"), "accuracy")


def _path_story(metrics) -> list[str]:
    info = metrics.get("path") or {}
    if info.get("lambda_selected") is None:
        return []
    rule, measure = info.get("selected", "1se"), info.get("measure", "deviance")
    better = "higher" if info.get("greater_is_better") else "lower"
    lines = [f"Cross-validation chose lambda_{rule} = <b>{number(info['lambda_selected'])}</b>: CV "
             f"{escape(measure)} {number(info.get('cv_mean'), '.4g')} &plusmn; "
             f"{number(info.get('cv_se'), '.3g')} ({better} is better)."]
    if rule == "1se" and info.get("lambda_min") is not None and info["lambda_min"] != info["lambda_selected"]:
        lines.append(f"It is the strongest penalty within one standard error of the best mean (lambda_min = "
                     f"{number(info['lambda_min'])}): {_simpler(info, '1se', 'min')}")
    elif rule == "min" and info.get("lambda_1se") not in (None, info.get("lambda_selected")):
        lines.append(f"It is the best mean CV score; lambda_1se = {number(info.get('lambda_1se'))}, within "
                     f"one standard error of it, would give {_simpler(info, '1se', 'min')}")
    lines += _measures_story(info) + _baseline_story(info)
    kept = info.get("n_selected_features", info.get("n_features_selected"))
    total = metrics.get("n_features") or (metrics.get("data") or {}).get("n_features")
    if kept is not None and total:
        lines.append(f"The saved model uses {kept} of {total} input features"
                     + (f", {number(100 * info['sparsity'], '.1f')}% of its kernel weights exactly zero"
                        if info.get("sparsity") else "") + ".")
    if isinstance(info.get("dev_ratio"), (int, float)):
        lines.append(f"Refit on all rows it explains {number(100 * info['dev_ratio'], '.1f')}% of the null "
                     "deviance on them (glmnet's %Dev; an optimistic number, on its own rows).")
    return lines


def _simpler(info, strong, weak) -> str:
    """Whether the strength ``strong`` gives a simpler network than ``weak``, said from the features
    its refit keeps and its exact zeros (metrics.json's ``n_features_*`` / ``sparsity_*``)."""
    f_s, f_w = info.get(f"n_features_{strong}"), info.get(f"n_features_{weak}")
    z_s, z_w = info.get(f"sparsity_{strong}"), info.get(f"sparsity_{weak}")
    if None in (f_s, f_w, z_s, z_w):
        return "a network at a CV cost within the noise of the folds."
    counts = (f"{f_s} input features and {number(100 * z_s, '.1f')}% of its kernel weights exactly zero, "
              f"against {f_w} and {number(100 * z_w, '.1f')}% at lambda_{weak}")
    if f_s < f_w or z_s > z_w:
        return f"a simpler network ({counts}) at a CV cost within the noise of the folds."
    return (f"a network no simpler ({counts}); the stronger penalty only shrinks the weights, at a CV cost "
            "within the noise of the folds.")


def _measures_story(info) -> list[str]:
    """Every other CV measure the path computed, at the selected strength."""
    from ..path.measures import MEASURES

    others = [(m, v) for m, v in (info.get("cv_measures") or {}).items() if m != info.get("measure")]
    if not others:
        return []
    shown = ", ".join(f"{escape(MEASURES[m][2] if m in MEASURES else m)} {number(v[0], '.4g')} &plusmn; "
                      f"{number(v[1], '.3g')}" for m, v in others)
    return [f"Its other CV measures at lambda_{escape(info.get('selected', '1se'))}: {shown}."]


def _baseline_story(info) -> list[str]:
    """Whether the network beats the null and the linear model, from metrics.json's numbers."""
    from ..path.baselines import baseline_sentences

    record = info.get("baselines")
    if not record:
        return []
    rule = info.get("selected", "1se")
    choices = [(f"lambda_{rule}", info.get("cv_mean"), info.get("cv_se"))]
    other = "min" if rule == "1se" else "1se"
    if info.get(f"cv_mean_{other}") is not None and info.get(f"lambda_{other}") != info["lambda_selected"]:
        choices.append((f"lambda_{other}", info[f"cv_mean_{other}"], info[f"cv_se_{other}"]))
    return [escape(t).replace("+-", "&plusmn;") for t in baseline_sentences(record, choices)]


def _demo_story(metrics) -> list[str]:
    runs = metrics.get("comparison") or {}
    plain, chosen = runs.get("plain"), runs.get((metrics.get("path") or {}).get("selected", "1se"))
    if not plain or not chosen:
        return []
    score = _score_name(metrics)
    narrows = "narrows" if chosen["gap"] < plain["gap"] else "does <b>not</b> narrow"
    before, after = plain["held_out"], chosen["held_out"]
    return [f"On the {after.get('n_rows')} held-out rows, set aside before anything was fit, the selected "
            f"penalty {narrows} the gap between train and held-out data loss: "
            f"<b>{number(plain['gap'], '.3g')} &rarr; {number(chosen['gap'], '.3g')}</b> (held-out data loss "
            f"{number(before['data_loss'], '.3g')} &rarr; {number(after['data_loss'], '.3g')}; held-out "
            f"{escape(score)} {number(before.get(score), '.3g')} &rarr; {number(after.get(score), '.3g')})."]


def _numbers(record, *keys):
    values = [record.get(k) for k in keys]
    return values if all(isinstance(v, (int, float)) for v in values) else None


def _fit_story(metrics) -> list[str]:
    train, valid = metrics.get("train") or {}, metrics.get("validation") or {}
    found = _numbers(train, "data_loss", "loss", "penalty", "sparsity")
    if metrics.get("diverged") or found is None or _numbers(valid, "data_loss") is None:
        return []  # a diverged run's numbers say nothing; its report says so at the top
    data_loss, loss, penalty, sparsity = found
    share = (f"{number(100 * penalty / loss, '.1f')}% of the training objective (data loss + penalty)"
             if loss else "zero")
    gap = valid["data_loss"] - data_loss
    side = "above" if gap >= 0 else "below"
    return [f"The validation data loss is {number(abs(gap), '.3g')} {side} the training one (the gap a "
            "penalty narrows); the "
            f"penalty is {share} and {number(100 * sparsity, '.1f')}% of the kernel weights are exactly "
            "zero. A path (kerasnet path) chooses the strength by cross-validation instead."]


def conclusion_section(metrics):
    """What the numbers say, in a few sentences: the choice, what it costs and what it buys."""
    kind = metrics.get("kind")
    lines = {"path": _path_story, "demo": lambda m: _path_story(m) + _demo_story(m),
             "fit": _fit_story}.get(kind, lambda m: [])(metrics)
    if not lines:
        return None
    return "What to conclude", "<p>" + " ".join(lines) + "</p>"


def comparison_section(folder, metrics, figure):
    """The demo's models side by side: one table on the held-out rows, one panel of curves each."""
    runs = metrics.get("comparison") or {}
    if not runs:
        return None
    score = _score_name(metrics)
    keys = [k for k in _MODELS if k in runs]

    def cv(m):
        return "not cross-validated" if not m.get("cv") else f"{m['cv'][0]:.4g} ± {m['cv'][1]:.2g}"

    rows = [("lambda", lambda m: number(m["lambda"])), ("CV deviance ± se (training rows)", cv),
            ("train data loss", lambda m: number(m["train"]["data_loss"])),
            ("held-out data loss", lambda m: number(m["held_out"]["data_loss"])),
            ("gap (held-out - train)", lambda m: number(m["gap"], ".3g")),
            (f"train {score}", lambda m: number(m["train"].get(score))),
            (f"held-out {score}", lambda m: number(m["held_out"].get(score))),
            ("exact zeros", lambda m: number(m.get("sparsity"), ".1%")),
            ("weights near zero", lambda m: number(m.get("near_zero"), ".1%"))]
    selected = (metrics.get("path") or {}).get("selected", "1se")
    header = ["", *(_MODELS[k] + (" (selected)" if k == selected else "") for k in keys)]
    html_ = table(header, [[label, *(cell(runs[k]) for k in keys)] for label, cell in rows])
    curves = read_csv(os.path.join(folder, "comparison_curves.csv"))
    if curves is not None and {"model", "epoch", "data_loss", "val_data_loss"} <= set(curves.columns):
        from ..plots import side_by_side_curves

        frames = {_MODELS[k]: curves[curves["model"] == k] for k in keys if (curves["model"] == k).any()}
        watched = {_MODELS[k]: str(curves.loc[curves["model"] == k, "validation"].iloc[0])
                   for k in keys if (curves["model"] == k).any()}
        html_ += figure(side_by_side_curves(frames, watched), "comparison_curves.png",
                        "Data loss per epoch of each model: on its training rows, and on the rows it did not "
                        "train on (the plain network: the held-out rows, watched only; the penalized ones: "
                        "the CV folds each member held out, mean over folds)")
    return "No penalty against lambda_min and lambda_1se", html_
