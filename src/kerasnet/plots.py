"""Matplotlib figures of kerasnet results: data in, Figure out (no training, no files)."""

from __future__ import annotations

import numpy as np

__all__ = ["compare_figure", "compare_histograms", "feature_path_axes", "learning_curves", "path_axes",
           "path_figure", "side_by_side_curves", "stability_axes", "weight_histograms"]


def path_figure(lambdas, cv_mean, cv_se, lambda_min, lambda_1se, weight_norm, sparsity=None,
                n_features=None, score_name="accuracy", feature_path=None, feature_names=None):
    """The regularization path as a new, detached Figure (:func:`path_axes` on its panels).

    Nothing goes through pyplot, so a report or a command line can draw and save it without
    a display; :meth:`kerasnet.Path.plot` draws the same panels on pyplot's figure or on
    given axes (:class:`kerasnet.PathDisplay`).

    Parameters
    ----------
    lambdas, cv_mean, cv_se, weight_norm : array [L]
    lambda_min, lambda_1se : float
    sparsity, n_features : array [L] or None
    score_name : str, default "accuracy"
    feature_path : array [L, d] or None
        Each input feature's first-layer weight norm per strength.
    feature_names : list of str or None

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    panels = 2 if feature_path is None else 3
    fig = Figure(figsize=(5 * panels, 4), layout="constrained")
    path_axes(fig.subplots(1, panels), lambdas, cv_mean, cv_se, lambda_min, lambda_1se, weight_norm,
              sparsity, n_features, score_name, feature_path, feature_names)
    return fig


def path_axes(axes, lambdas, cv_mean, cv_se, lambda_min, lambda_1se, weight_norm, sparsity=None,
              n_features=None, score_name="accuracy", feature_path=None, feature_names=None):
    """The regularization path on ``axes`` (2 Axes, or 3 with ``feature_path``): CV score with
    error bars and both choices; the weight path; the feature path.

    First: mean CV score per strength with +-1 SE bars (log strength axis, strongest on the
    left as in glmnet's plots reversed to read "less penalty ->"), vertical lines at
    ``lambda_min`` and ``lambda_1se``. Second: total ``sum|W|`` of the refit kernels, and
    the fraction of exact zeros (and features kept, when given) on a twin axis. Third, with
    ``feature_path``: glmnet's coefficient-path picture (:func:`feature_path_axes`).
    The arguments are those of :func:`path_figure`.
    """
    lambdas = np.asarray(lambdas, float)
    ax, ax2, *rest = axes
    ax.errorbar(lambdas, cv_mean, yerr=cv_se, fmt="o-", ms=3, capsize=2, color="C0")
    ax.axvline(lambda_min, color="C3", ls="--", label=f"lambda_min = {lambda_min:.3g}")
    ax.axvline(lambda_1se, color="C2", ls=":", label=f"lambda_1se = {lambda_1se:.3g}")
    ax.set(xscale="log", xlabel="lambda", ylabel=f"CV {score_name} (mean +- 1 SE)", title="Cross-validation")
    ax.legend(loc="best", fontsize=8)
    ax2.plot(lambdas, weight_norm, "o-", ms=3, color="C1", label="sum |W|")
    ax2.set(xscale="log", xlabel="lambda", ylabel="sum |W| of kernels", title="Path (refit on all rows)")
    if sparsity is not None:
        twin = ax2.twinx()
        twin.plot(lambdas, sparsity, "s--", ms=3, color="C4", label="fraction of zero weights")
        twin.set(ylabel="fraction of zero weights", ylim=(-0.02, 1.02))
        if n_features is not None:
            marks = zip(lambdas[::4], np.asarray(sparsity)[::4], np.asarray(n_features)[::4], strict=True)
            for lam, s, k in marks:
                twin.annotate(str(int(k)), (lam, s), fontsize=7, textcoords="offset points", xytext=(0, 4))
    ax2.axvline(lambda_1se, color="C2", ls=":", lw=0.8)
    if feature_path is not None:
        feature_path_axes(rest[0], lambdas, feature_path, feature_names, lambda_min, lambda_1se)


def feature_path_axes(ax, lambdas, feature_path, feature_names=None, lambda_min=None, lambda_1se=None,
                      label=8):
    """glmnet's coefficient-path picture for a network: one line per input feature.

    Each feature's first-layer weight norm (``Path.feature_path_``) against log lambda, the
    number of features kept along the top axis, and the ``label`` strongest features (by
    their norm at the smallest strength) named at the right end of their lines.
    """
    lambdas = np.asarray(lambdas, float)
    paths = np.asarray(feature_path, float)
    names = list(feature_names) if feature_names else [f"x{j}" for j in range(paths.shape[1])]
    strongest = set(np.argsort(-paths[-1])[:label].tolist())
    for j in range(paths.shape[1]):
        line, = ax.plot(lambdas, paths[:, j], lw=1.2 if j in strongest else 0.6,
                        alpha=1.0 if j in strongest else 0.45)
        if j in strongest:
            ax.annotate(names[j], (lambdas[-1], paths[-1, j]), fontsize=7, color=line.get_color(),
                        textcoords="offset points", xytext=(3, 0), va="center")
    for lam, style, color in ((lambda_min, "--", "C3"), (lambda_1se, ":", "C2")):
        if lam is not None:
            ax.axvline(lam, color=color, ls=style, lw=0.8)
    ax.set(xscale="log", xlabel="lambda", ylabel="||first-layer weights|| of the feature",
           title="Feature path")
    kept = (paths > 0).sum(axis=1)
    top = ax.secondary_xaxis("top")
    marks = np.unique(np.linspace(0, len(lambdas) - 1, min(6, len(lambdas))).round().astype(int))
    top.set_xticks(lambdas[marks], [str(int(k)) for k in kept[marks]], fontsize=7)
    top.set_xlabel("features kept", fontsize=8)


def stability_axes(stable, ax=None, label=10):
    """Meinshausen & Buhlmann's stability path: selection probability against log lambda.

    One line per feature (the selected ones coloured and named, up to ``label``; the others
    grey), the threshold as a horizontal line and the region (strengths whose bound on false
    selections stays within ``pfer``) shaded. Returns the figure.
    """
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(7, 4.5), layout="constrained")
        ax = fig.subplots()
    lambdas, probs = stable.lambdas_, stable.probabilities_
    selected = set(stable.selected_.tolist())
    for j in range(probs.shape[1]):
        if j not in selected:
            ax.plot(lambdas, probs[:, j], color="0.6", lw=0.6, alpha=0.5)
    named = []
    for count, j in enumerate(stable.selected_):
        line, = ax.plot(lambdas, probs[:, j], lw=1.5)
        if count < label:
            named.append((probs[-1, j], stable.feature_names_[j], line.get_color()))
    # Labels at the weakest strength, nudged apart so close lines keep readable names.
    last = np.inf
    for y, name, color in sorted(named, reverse=True):
        last = y = min(y, last - 0.045)
        ax.annotate(name, (lambdas[-1], y), fontsize=7, color=color, textcoords="offset points",
                    xytext=(3, 0), ha="left", va="center")
    ax.axhline(stable.threshold, color="C3", ls="--", lw=0.8, label=f"threshold {stable.threshold:g}")
    if stable.region_ >= 0:
        ax.axvspan(lambdas[stable.region_], lambdas[0], color="C0", alpha=0.08,
                   label=f"region: E[false] <= {stable.expected_false_:.2g}")
    ax.set(xscale="log", xlabel="lambda", ylabel="selection probability", ylim=(-0.02, 1.02),
           title=f"Stability selection: {len(selected)} of {probs.shape[1]} features")
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())  # a short grid's minor labels run into each other
    # Below the axes: lines fill both upper corners (the stable features at strong strengths,
    # everything at weak ones) and the labels sit at the right end.
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    return ax.figure


# --------------------------------------------------------------------------- runs and comparisons


def _objective(history, prefix=""):
    """The objective curve (data loss + the whole penalty) of ``history``, and whether it is one.

    ``objective`` (:class:`kerasnet.PenaltyMonitor`) or ``data_loss + penalty`` is the objective
    with every penalty; Keras's bare ``loss`` lacks a proximal penalty's part, so it is named as
    Keras's loss, never as the objective.
    """
    if f"{prefix}objective" in history:
        return history[f"{prefix}objective"], True
    if not prefix and {"data_loss", "penalty"} <= set(history):
        return history["data_loss"] + history["penalty"], True
    return history.get(f"{prefix}loss"), False


def learning_curves(history, validation="validation", mark_epoch=None, title=None):
    """Two panels: training vs validation objective (data loss + penalty); data loss vs penalty.

    Parameters
    ----------
    history : pandas.DataFrame or dict of lists
        Keras's ``History.history`` with :class:`kerasnet.PenaltyMonitor`'s columns:
        ``loss`` and optionally ``objective``, ``val_objective``, ``val_loss``, ``data_loss``,
        ``val_data_loss``, ``penalty``; an ``epoch`` column (1-based) is used when present.
        The left panel draws ``objective`` (else ``data_loss + penalty``); a history with
        Keras's ``loss`` alone is drawn and named as Keras's loss.
    validation : str, default "validation"
        What the validation rows are, for the legend (e.g. "held-out folds (CV mean)").
    mark_epoch : int or None
        An epoch to mark with a vertical line (e.g. the refit's epoch count).
    title : str or None
        A title over both panels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    history = {k: np.asarray(v, float) for k, v in dict(history).items()}
    epoch = history.get("epoch", np.arange(1, len(history["loss"]) + 1))
    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    train, whole = _objective(history)
    left.plot(epoch, train, label="train objective" if whole else "train loss (Keras's)")
    val, val_whole = _objective(history, "val_")
    if val is not None:
        left.plot(epoch, val, label=f"{validation} " + ("objective" if val_whole else "loss (Keras's)"))
    left.set(title="Objective (data loss + penalty)" if whole else "Keras's loss", xlabel="epoch",
             ylabel="objective" if whole else "loss")
    if "data_loss" in history:
        right.plot(epoch, history["data_loss"], label="train data loss")
    if "val_data_loss" in history:
        right.plot(epoch, history["val_data_loss"], label=f"{validation} data loss")
    if "penalty" in history:
        right.plot(epoch, history["penalty"], label="penalty")
    right.set(title="Data loss vs penalty", xlabel="epoch", ylabel="value")
    for ax in (left, right):
        if mark_epoch is not None:
            ax.axvline(mark_epoch, color="0.4", linestyle=":", label=f"epoch {mark_epoch}")
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def side_by_side_curves(histories, validation):
    """One panel per model: train and validation data loss per epoch, on a shared loss axis.

    Parameters
    ----------
    histories : dict of str -> DataFrame
        Model name -> its curves (``epoch``, ``data_loss``, ``val_data_loss``).
    validation : dict of str -> str
        Model name -> what its validation rows are, for the legend.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * len(histories), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(histories), sharey=True))
    for ax, (name, frame) in zip(axes, histories.items(), strict=True):
        ax.plot(frame["epoch"], frame["data_loss"], label="train rows")
        ax.plot(frame["epoch"], frame["val_data_loss"], label=validation[name])
        ax.set(title=name, xlabel="epoch")
        ax.legend(fontsize="small")
    axes[0].set_ylabel("data loss (no penalty)")
    return fig


def _zero_share(values):
    values = np.asarray(values)
    return float((values == 0).mean()) if values.size else 0.0


def weight_histograms(kernels, bins=60):
    """One histogram per layer of its kernel weights, with the share of exact zeros.

    Parameters
    ----------
    kernels : dict of {str: array}
        Layer name to kernel (any shape), in network order.
    bins : int, default 60

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    names = list(kernels)
    n = max(len(names), 1)
    fig = Figure(figsize=(min(4 * n, 14), 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)[0])
    for ax, name in zip(axes, names, strict=False):
        values = np.asarray(kernels[name], float).ravel()
        finite = values[np.isfinite(values)]
        # A small output layer gets few bins, so its weights stay visible as bars.
        if finite.size:
            ax.hist(finite, bins=int(min(bins, max(10, finite.size // 4))), color="C0")
            ax.set_yscale("log")
        shape = "x".join(map(str, np.shape(kernels[name])))
        ax.set(title=f"{name} ({shape})", xlabel="weight", ylabel="count")
        note = f"exact zeros {_zero_share(values):.1%}"
        if finite.size < values.size:
            note += f"\n{values.size - finite.size} weights not finite (diverged)"
        ax.text(0.98, 0.95, note, transform=ax.transAxes, ha="right", va="top", fontsize=8)
    return fig


def compare_figure(histories, summary, score_name="accuracy", near_zero_label="near zero"):
    """The same network under several penalties, side by side.

    Top: validation data loss per epoch (solid) and training data loss (dashed) for each
    variant. Bottom: the train/validation gap of the data loss, the test score and the
    share of exact-zero kernel weights, one bar per variant.

    Parameters
    ----------
    histories : dict of {str: DataFrame or dict of lists}
        Variant name to its training history (``data_loss``, ``val_data_loss``).
    summary : dict of {str: dict}
        Variant name to ``{"gap": float, "test": float, "sparsity": float}`` and
        optionally ``"near_zero"`` (share of weights below a small threshold, drawn hatched
        beside the exact zeros); missing values are left out.
    score_name : str, default "accuracy"
        The test score's name, for the axis label.
    near_zero_label : str, default "near zero"
        Legend of the hatched bars, e.g. ``"|w| < 0.001"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    names = list(histories)
    colors = {name: f"C{i}" for i, name in enumerate(names)}
    fig = Figure(figsize=(12, 7), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.2, 1])
    curves = top.subplots(1, 1)
    for name in names:
        hist = {k: np.asarray(v, float) for k, v in dict(histories[name]).items()}
        key = "data_loss" if "data_loss" in hist else "loss"
        epoch = hist.get("epoch", np.arange(1, len(hist[key]) + 1))
        curves.plot(epoch, hist[key], ls="--", color=colors[name], alpha=0.7)
        val = "val_data_loss" if "val_data_loss" in hist else "val_loss"
        if val in hist:
            curves.plot(epoch, hist[val], color=colors[name], label=name)
    curves.set(title="Data loss: validation (solid) vs training (dashed)", xlabel="epoch", ylabel="data loss")
    curves.legend(fontsize=8)
    panels = (("gap", "validation - train data loss", "Train/validation gap"),
              ("test", f"test {score_name}", f"Test {score_name}"),
              ("sparsity", "share of kernel weights", "Sparsity"))
    for ax, (key, label, title) in zip(bottom.subplots(1, 3), panels, strict=True):
        shown = [n for n in names if summary.get(n, {}).get(key) is not None]
        values = [float(summary[n][key]) for n in shown]
        near = [summary[n].get("near_zero") for n in shown] if key == "sparsity" else []
        width = 0.4 if near and all(v is not None for v in near) else 0.8
        offset = -width / 2 if width < 0.8 else 0.0
        bars = ax.bar(np.arange(len(shown)) + offset, values, width, color=[colors[n] for n in shown],
                      label="exact zeros")
        ax.bar_label(bars, fmt="%.3g", fontsize=8)
        if width < 0.8:
            bars = ax.bar(np.arange(len(shown)) - offset, [float(v) for v in near], width, fill=False,
                          hatch="//", edgecolor=[colors[n] for n in shown], label=near_zero_label)
            ax.bar_label(bars, fmt="%.3g", fontsize=8)
            ax.set_ylim(0, 1.1)
            ax.legend(fontsize=7, loc="upper left")
        ax.set_xticks(range(len(shown)), shown, rotation=15, fontsize=8)
        ax.set(title=title, ylabel=label)
        if key == "test" and values and score_name != "rmse":
            low = min(values)
            ax.set_ylim(max(0.0, low - 0.1 * (1 - low) - 0.02), 1.0 if score_name == "accuracy" else None)
    return fig


def compare_histograms(weights, bins=80):
    """All kernel weights of each variant as one histogram, on a shared axis (log counts).

    Parameters
    ----------
    weights : dict of {str: array}
        Variant name to its kernel weights (flattened together).
    bins : int, default 80

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    names = list(weights)
    values = {n: np.asarray(weights[n], float).ravel() for n in names}
    values = {n: v[np.isfinite(v)] for n, v in values.items()}  # a diverged variant has NaN weights
    both = np.concatenate([v for v in values.values() if v.size] or [np.zeros(1)])
    edges = np.linspace(both.min(), both.max(), bins + 1) if both.max() > both.min() else bins
    fig = Figure(figsize=(min(3.5 * max(len(names), 1), 14), 3.4), layout="constrained")
    axes = fig.subplots(1, max(len(names), 1), sharex=True, sharey=True, squeeze=False)[0]
    for i, (ax, name) in enumerate(zip(axes, names, strict=False)):
        ax.hist(values[name], bins=edges, color=f"C{i}")
        ax.set_yscale("log")
        ax.set(title=name, xlabel="weight")
        ax.text(0.98, 0.95, f"exact zeros {_zero_share(values[name]):.1%}", transform=ax.transAxes,
                ha="right", va="top", fontsize=8)
    axes[0].set_ylabel("count")
    return fig
