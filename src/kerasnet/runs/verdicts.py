"""What ``compare`` and ``select`` runs let one conclude, in words computed from their numbers.

:func:`paired_test_differences` measures, when ``kerasnet compare`` runs, each variant's test
data loss against the lowest one's row by row (the paired standard error of the difference:
the noise a test split of that size leaves); :func:`compare_story` and :func:`select_story`
write the report's opening "What to conclude" from ``metrics.json``.
"""

from __future__ import annotations

import numpy as np

from .html import escape, number

__all__ = ["NEGLIGIBLE", "NOISE_SE", "compare_story", "paired_test_differences", "per_row_loss",
           "select_story", "test_differences", "verdict_section"]

#: A difference counts as more than the noise of the test rows beyond this many paired standard
#: errors (about a 95% interval for a mean difference).
NOISE_SE = 2.0
#: A difference below this share of the best data loss is no difference worth a choice, however
#: consistent over the rows (variants that barely differ differ the same way on every row).
NEGLIGIBLE = 1e-3


def per_row_loss(task, y, outputs) -> np.ndarray:
    """Keras's data loss of ``task`` on each row (its mean is the ``data_loss`` a run reports)."""
    outputs = np.asarray(outputs, float)
    if task == "binary":
        p = np.clip(outputs.reshape(len(outputs), -1)[:, 0], 1e-7, 1 - 1e-7)
        y = np.asarray(y, float).ravel()
        return -(y * np.log(p) + (1 - y) * np.log(1 - p))
    if task == "multiclass":
        truth = np.take_along_axis(outputs, np.asarray(y).astype(int).reshape(-1, 1), axis=1)[:, 0]
        return -np.log(np.clip(truth, 1e-7, 1.0))
    y = np.asarray(y, float).reshape(len(outputs), -1)
    if task == "poisson":
        return (outputs - y * np.log(outputs + 1e-7)).mean(axis=1)
    return np.square(y - outputs.reshape(len(y), -1)).mean(axis=1)


def paired_test_differences(task, losses: dict) -> dict:
    """Each variant's test data loss against the lowest one's, with the paired standard error.

    Parameters
    ----------
    task : str
    losses : dict of str -> array [n]
        Each variant's per-row data loss on the same test rows (:func:`per_row_loss`).

    Returns
    -------
    dict
        ``best`` (the variant of lowest mean), ``n_rows``, and per variant ``data_loss`` (the
        mean), ``difference`` (its mean minus the best's) and ``se`` (the standard error of that
        mean difference over the rows: ``sd(d) / sqrt(n)``; 0 for the best itself).
    """
    means = {name: float(np.mean(values)) for name, values in losses.items()}
    best = min(means, key=means.get)
    n = len(losses[best])
    variants = {}
    for name, values in losses.items():
        d = np.asarray(values, float) - np.asarray(losses[best], float)
        se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        variants[name] = {"data_loss": means[name], "difference": float(d.mean()), "se": se}
    return {"task": task, "best": best, "n_rows": int(n), "variants": variants}


def test_differences(runs: dict, test, task) -> dict:
    """:func:`paired_test_differences` of ``kerasnet compare``'s runs (name -> :class:`kerasnet.runs.Run`)
    on the ``test`` rows ``(features, y)``, each through its own run's preprocessing."""
    losses = {}
    for name, run in runs.items():
        x, y = run.preprocessor.transform(test[0]), run.preprocessor.encode_target(test[1])
        losses[name] = per_row_loss(task, y, run.model.predict(x, batch_size=4096, verbose=0))
    return paired_test_differences(task, losses)


def _against(name, r) -> str:
    ratio = f" ({number(r['difference'] / r['se'], '.1f')} SE)" if r["se"] > 0 else ""
    return f"{escape(name)} +{number(r['difference'], '.3g')} &plusmn; {number(r['se'], '.2g')}{ratio}"


def _noise_words(best, n, within, beyond) -> str:
    if not within:
        return (f"Every other variant is more than {NOISE_SE:g} standard errors worse: a difference these "
                "test rows can defend.")
    one = len(within) == 1
    words = (f"{escape(', '.join(within))} {'is' if one else 'are'} within {NOISE_SE:g} standard errors of "
             f"it (or within {NEGLIGIBLE:.1%} of its loss): on {escape(n)} rows "
             f"{'that difference is' if one else 'those differences are'} noise, so the test split does not "
             f"rank {'it' if one else 'them'} against {escape(best)} (more rows, or cross-validation with "
             "kerasnet path, would).")
    if beyond:
        verb = "is" if len(beyond) == 1 else "are"
        words += f" {escape(', '.join(beyond))} {verb} worse by more than that."
    return words


def compare_story(metrics) -> list[str]:
    """Which penalty had the lowest test data loss, by how much, and whether the test rows can tell."""
    found = metrics.get("test_differences")
    variants = metrics.get("variants") or {}
    lines = []
    if isinstance(found, dict) and found.get("best") in (found.get("variants") or {}):
        best, n, rows = found["best"], found.get("n_rows"), found["variants"]
        lines.append(f"On the {escape(n)} test rows, held out before anything was fit, <b>{escape(best)}</b> "
                     f"has the lowest data loss, {number(rows[best]['data_loss'])}.")
        others = [(name, r) for name, r in rows.items() if name != best]
        floor = NEGLIGIBLE * abs(rows[best]["data_loss"])
        beyond = [name for name, r in others
                  if r["se"] > 0 and r["difference"] > max(NOISE_SE * r["se"], floor)]
        lines.append("Against it (the difference of the mean data loss &plusmn; its paired standard error "
                     "over the test rows): " + "; ".join(_against(name, r) for name, r in others) + ".")
        lines.append(_noise_words(best, n, [name for name, _ in others if name not in beyond], beyond))
    elif variants:  # a run without the row-by-row record: the means alone, no claim about noise
        test = {name: (v.get("test") or {}).get("data_loss") for name, v in variants.items()}
        test = {k: v for k, v in test.items() if isinstance(v, (int, float))}
        if test:
            best = min(test, key=test.get)
            lines.append(f"<b>{escape(best)}</b> has the lowest test data loss, {number(test[best])}; this "
                         "run recorded no row-by-row losses, so whether the differences exceed the noise of "
                         "the test rows is not known.")
    score = "rmse" if metrics.get("task") in ("regression", "poisson") else "accuracy"
    scores = {name: (v.get("test") or {}).get(score) for name, v in variants.items()}
    scores = {k: v for k, v in scores.items() if isinstance(v, (int, float))}
    if scores:
        listed = ", ".join(f"{escape(k)} {number(v)}" for k, v in scores.items())
        lines.append(f"Test {score}: {listed}.")
    return lines


def select_story(metrics) -> list[str]:
    """How many features are stable at the threshold, and the bound on false selections among them."""
    info = metrics.get("stability")
    if not isinstance(info, dict):
        return []
    k, d = info.get("n_selected", len(info.get("selected") or [])), info.get("n_features")
    threshold, pfer, bound = info.get("threshold"), info.get("pfer"), info.get("expected_false")
    of = f" of {escape(d)}" if d else ""
    if info.get("lambda_region") is None:
        return [f"<b>No feature{of} is stable</b>: even at the strongest penalty the bound on false "
                f"selections exceeds the {number(pfer)} allowed. Raise --pfer, or --threshold (a higher "
                "threshold lowers the bound), or give more rows."]
    if not k:
        return [f"<b>No feature{of} is stable</b>: none reaches a selection probability of "
                f"{number(threshold, '.0%')} at the strengths where the bound holds. A lower --threshold "
                "(at a larger bound) or more rows may find some."]
    names = [str(n) for n in info.get("selected") or []]
    listed = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    pairs = info.get("n_pairs")
    halves = f"{2 * int(pairs)} half-samples" if pairs else "the half-samples"
    lines = [f"<b>{escape(k)}</b>{of} features are stable at the threshold {number(threshold, '.0%')}: kept "
             f"by at least that share of {halves} at some strength from {number(info.get('lambda_max'))} "
             f"down to {number(info.get('lambda_region'))}: {escape(listed)}."]
    if isinstance(bound, (int, float)):
        lines.append(f"The bound expects at most <b>{number(bound, '.2g')}</b> of them to be false "
                     f"selections (you allowed {number(pfer)}; Meinshausen and Buhlmann's bound for "
                     f"complementary pairs), so at least {number(max(0.0, k - bound), '.3g')} of the "
                     f"{escape(k)} are expected to be real.")
    return lines


def verdict_section(metrics):
    """The "What to conclude" of a compare or select report (None for other kinds)."""
    story = {"compare": compare_story, "select": select_story}.get(metrics.get("kind"))
    lines = story(metrics) if story else []
    return ("What to conclude", "<p>" + " ".join(lines) + "</p>") if lines else None
