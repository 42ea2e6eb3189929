"""``kerasnet compare``: the same network with no penalty, L1, L2 and L1-L2, side by side.

Every variant uses the same seed, the same initial weights, the same rows: a test split is
held out first, the rest is split into training and validation rows, and the preprocessing
is fitted on the training rows only. So the differences in the table come from the penalty
alone.
"""

from __future__ import annotations

import click

from ..runs.folder import check_out_dir
from ._common import (
    HIDDEN,
    LEARNING_RATE,
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    SEED,
    STRENGTH,
    FiniteRange,
    count,
    data_options,
    load_data,
    out_options,
)

#: Strengths used with ``--choose default`` (the demo's L1-L2 recipe).
DEFAULT_L1, DEFAULT_L2 = 1e-3, 1e-2
#: The quick path behind ``--choose path``: strengths x folds, fewer epochs than the runs.
PATH_SETTINGS = {"n_lambdas": 10, "cv": 3, "max_epochs": 50}
#: ``l1_ratio`` of the path that picks each penalized variant's strength.
PATH_RATIOS = {"L1": 1.0, "L2": 0.0, "L1-L2": 0.5}
VARIANTS = ("no penalty", "L1", "L2", "L1-L2")
FOLDERS = {"no penalty": "no_penalty", "L1": "l1", "L2": "l2", "L1-L2": "l1_l2"}


def _strengths_from_path(features, y, task, hidden, epochs, seed, select, proximal, console, batch_size,
                         learning_rate):
    """(l1, l2) per penalized variant from quick CV paths on the non-test rows, and a note."""
    from ..data import Preprocessor
    from ..path import fit_path
    from ..penalty import lambda_to_l1_l2

    pre = Preprocessor(task=task).fit(features, y)
    x, target = pre.transform(features), pre.encode_target(y)
    target = target[:, 0] if target.ndim == 2 else target
    chosen = {}
    for name, ratio in PATH_RATIOS.items():
        console.print(f"choosing the {name} strength: {PATH_SETTINGS['n_lambdas']} strengths x "
                      f"{PATH_SETTINGS['cv']}-fold CV (l1_ratio={ratio:g}) ...")
        path = fit_path(
            x, target, hidden=hidden, task=task, l1_ratio=ratio, n_lambdas=PATH_SETTINGS["n_lambdas"],
            lambda_min_ratio=1e-3,
            cv=PATH_SETTINGS["cv"], epochs=min(epochs, PATH_SETTINGS["max_epochs"]), proximal=proximal,
            seed=seed, verbose=0, batch_size=batch_size, learning_rate=learning_rate,
        )
        i = path.index(select)  # the one home of the 1se / min rule
        lam = path.lambdas_[i]
        l1, l2 = lambda_to_l1_l2(float(lam), ratio)
        chosen[name] = {"l1": float(l1), "l2": float(l2), "lambda": float(lam), "l1_ratio": ratio,
                        "cv_mean": float(path.cv_mean_[i]), "cv_se": float(path.cv_se_[i])}
    note = (f"Strengths chosen by quick CV paths on the training and validation rows (lambda_{select}; "
            f"{PATH_SETTINGS['n_lambdas']} strengths, {PATH_SETTINGS['cv']}-fold CV, "
            f"<= {PATH_SETTINGS['max_epochs']} epochs; l1_ratio 1, 0 and 0.5).")
    return chosen, note


def _check_small_data(y_rest, task, validation_split, seed, quick_path: bool) -> None:
    """Refuse, with compare's own flags in the fix, data too small for its splits and quick paths."""
    from ..data import InputError, split_rows
    from ..path import check_fold_count

    fix = "give more rows, or a smaller --test-split"
    try:
        split_rows(len(y_rest), validation_split, y=y_rest, task=task, seed=seed)
    except InputError:
        raise InputError(
            f"--validation-split {validation_split:g} cannot split the {len(y_rest)} non-test rows (each "
            f"class needs rows on both sides); {fix} or another --validation-split."
        ) from None
    if quick_path:
        try:
            check_fold_count(PATH_SETTINGS["cv"], y_rest, task)
        except InputError as err:
            raise InputError(
                f"the quick CV paths that choose the strengths use {PATH_SETTINGS['cv']} folds of the "
                f"{len(y_rest)} non-test rows, too few ({str(err).split(';')[0]}); {fix}, or give --l1 and "
                "--l2, or --choose default."
            ) from None


def _table(runs, strengths, score, near_zero):
    from rich.table import Table

    table = Table(title="kerasnet compare: same network, seed and rows; only the penalty differs")
    table.add_column("", no_wrap=True)
    for name in runs:
        s = strengths[name]
        label = name if name == "no penalty" else f"{name}\nl1={s['l1']:.3g} l2={s['l2']:.3g}"
        table.add_column(label, justify="right")
    score_label = "RMSE" if score == "rmse" else "accuracy"
    rows = [
        ("train data loss", lambda m: f"{m['train']['data_loss']:.4g}"),
        ("validation data loss", lambda m: f"{m['validation']['data_loss']:.4g}"),
        ("gap (validation - train)",
         lambda m: f"{m['validation']['data_loss'] - m['train']['data_loss']:.3g}"),
        (f"train {score_label}", lambda m: f"{m['train'][score]:.4g}"),
        (f"validation {score_label}", lambda m: f"{m['validation'][score]:.4g}"),
        (f"test {score_label}", lambda m: f"{m['test'][score]:.4g}"),
        ("test data loss", lambda m: f"{m['test']['data_loss']:.4g}"),
        ("penalty", lambda m: f"{m['train']['penalty']:.4g}"),
        ("sparsity (exact zeros)", lambda m: f"{m['train']['sparsity']:.1%}"),
    ]
    for label, cell in rows:
        table.add_row(label, *(cell(run.metrics) for run in runs.values()))
    table.add_row(f"weights with |w| < {near_zero:g}", *(f"{run.near_zero:.1%}" for run in runs.values()))
    return table


@click.command("compare")
@data_options
@click.option("--l1", type=STRENGTH, default=None, help="L1 strength (with --l2); default: see --choose.")
@click.option("--l2", type=STRENGTH, default=None, help="L2 strength (with --l1); default: see --choose.")
@click.option(
    "--choose",
    type=click.Choice(["path", "default"]),
    default="path",
    show_default=True,
    help="Without --l1/--l2: 'path' picks each strength by a quick CV path (l1_ratio 1, 0, 0.5); "
    f"'default' uses l1={DEFAULT_L1:g}, l2={DEFAULT_L2:g}.",
)
@click.option("--select", type=click.Choice(["1se", "min"]), default="1se", show_default=True,
              help="Rule of the quick path: lambda_1se or lambda_min.")
@click.option("--proximal/--no-proximal", default=True, show_default=True,
              help="Apply L1 as a soft-threshold after each step, in the quick paths and the fits: exact "
                   "zeros (kerasnet.ElasticNet). --no-proximal: Keras's own l1_l2 (the L1 subgradient).")
@click.option("--hidden", type=HIDDEN, default="64,64", show_default=True, help="Hidden layer sizes.")
@click.option("--epochs", type=count(1, MAX_EPOCHS), default=100, show_default=True,
              help="Epochs of every variant's training (the quick paths of --choose path take at most 50).")
@click.option("--batch-size", type=count(1, MAX_BATCH_SIZE), default=32, show_default=True,
              help="Rows per optimizer step.")
@click.option("--learning-rate", type=LEARNING_RATE, default=1e-3, show_default=True,
              help="Adam's step size.")
@click.option("--validation-split", type=FiniteRange(0, 1, min_open=True, max_open=True), default=0.2,
              show_default=True, help="Share of the non-test rows used for validation.")
@click.option("--test-split", type=FiniteRange(0, 1, min_open=True, max_open=True), default=0.2,
              show_default=True, help="Share of all rows held out for the test score (stratified).")
@click.option("--task", type=click.Choice(["auto", "binary", "multiclass", "regression"]), default="auto",
              show_default=True, help="auto: strings/booleans or <= 20 integer values are classes.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for splits, weights, shuffling.")
@out_options
def command(data, target, dataset, drop, l1, l2, choose, select, proximal, hidden, epochs, batch_size,
            learning_rate, validation_split, test_split, task, seed, out, overwrite):
    """Train the same MLP with no penalty, L1, L2 and L1-L2 and compare them side by side.

    Holds out a test split, then trains each variant on the same training rows with the
    same initial weights; prints learning-curve summaries, the train/validation gap, the
    test score and the sparsity, and writes one run folder per variant, metrics.json,
    compare.png and report.html to --out.
    """
    from ..data import InputError, infer_task, split_rows
    from ..monitor import NEAR_ZERO, near_zero_fraction
    from ..runs import train
    from ..runs.records import run_record
    from ..runs.save import save_compare_run
    from ..runs.verdicts import test_differences
    from ._common import report_warning, stdout_console

    if (l1 is None) != (l2 is None):
        raise InputError("give both --l1 and --l2 (the L1 and L2 variants use one each, L1-L2 both), "
                         "or neither to choose them with --choose.")
    check_out_dir(out, overwrite, inputs=[data])
    console = stdout_console()
    features, y, source = load_data(data, target, dataset, drop)
    task = infer_task(y) if task == "auto" else task
    try:
        rest, test = split_rows(len(y), test_split, y=y, task=task, seed=seed)
    except InputError as err:  # split_rows words its share as the validation split
        reason = str(err).split(": ", 1)[-1].split(";")[0]
        raise InputError(f"--test-split {test_split:g} cannot split the {len(y)} rows: {reason}; give more "
                         "rows or another --test-split.") from None
    if len(test) == 0 or len(rest) < 4:
        raise InputError(f"--test-split {test_split:g} leaves no test rows or too few training rows "
                         f"from {len(y)}; give more data or another split.")
    x_rest, y_rest = features.iloc[rest], y.iloc[rest]
    held_out = (features.iloc[test], y.iloc[test])
    _check_small_data(y_rest, task, validation_split, seed, quick_path=l1 is None and choose == "path")

    if l1 is not None:
        strengths = {"L1": {"l1": l1, "l2": 0.0}, "L2": {"l1": 0.0, "l2": l2}, "L1-L2": {"l1": l1, "l2": l2}}
        note, how = f"Strengths given on the command line: --l1 {l1:g} --l2 {l2:g}.", "given"
    elif choose == "path":
        strengths, note = _strengths_from_path(x_rest, y_rest, task, hidden, epochs, seed, select, proximal,
                                               console, batch_size, learning_rate)
        how = "path"
    else:
        strengths = {"L1": {"l1": DEFAULT_L1, "l2": 0.0}, "L2": {"l1": 0.0, "l2": DEFAULT_L2},
                     "L1-L2": {"l1": DEFAULT_L1, "l2": DEFAULT_L2}}
        note, how = (f"Default strengths (--choose default): l1={DEFAULT_L1:g}, l2={DEFAULT_L2:g}; "
                     "not tuned to this data."), "default"
    strengths = {"no penalty": {"l1": 0.0, "l2": 0.0}, **strengths}
    console.print(note)

    runs = {}
    for name in VARIANTS:
        s = strengths[name]
        console.print(f"training {name} (l1={s['l1']:.3g}, l2={s['l2']:.3g}), {epochs} epochs ...")
        run = train(x_rest, y_rest, task=task, l1=s["l1"], l2=s["l2"], hidden=hidden, epochs=epochs,
                    batch_size=batch_size, learning_rate=learning_rate, validation_split=validation_split,
                    seed=seed, verbose=0, test=held_out, proximal=proximal,
                    settings={"data": source, "drop": list(drop), "test_split": test_split})
        run.metrics["kind"] = "fit"
        run.metrics["variant"] = name
        run.near_zero = near_zero_fraction(run.model, NEAR_ZERO)
        runs[name] = run
    from ..tasks import SCORE
    score = SCORE[task]
    console.print(_table(runs, strengths, score, NEAR_ZERO))

    first = runs["no penalty"].metrics
    summary = {
        "kind": "compare",
        "task": task,
        "target": first["target"],
        "classes": first["classes"],
        "data": first["data"],
        "model": {k: v for k, v in first["model"].items() if k != "penalty"},
        "settings": {**{k: v for k, v in first["settings"].items() if k not in ("l1", "l2")},
                     "choose": how, "select": select if how == "path" else None},
        "strengths_note": note,
        "near_zero_threshold": NEAR_ZERO,
        "variants": {
            name: {"folder": FOLDERS[name], **strengths[name], "near_zero": runs[name].near_zero,
                   "train": runs[name].metrics["train"], "validation": runs[name].metrics["validation"],
                   "test": runs[name].metrics["test"]}
            for name in VARIANTS
        },
        # Row by row on the test rows: the noise against which the report weighs the differences.
        "test_differences": test_differences(runs, held_out, task),
        **run_record(seed),
    }
    _, report_error = save_compare_run(out, overwrite, runs, FOLDERS, summary, inputs=[data])
    report_warning(report_error, out)
    scores = {n: runs[n].metrics["test"][score] for n in VARIANTS}
    best = (min if score == "rmse" else max)(scores.values())
    winners = [n for n in VARIANTS if abs(scores[n] - best) < 1e-9]
    lowest = min(VARIANTS, key=lambda n: runs[n].metrics["test"]["data_loss"])
    console.print(f"best test {score}: {', '.join(winners)}{' (tie)' if len(winners) > 1 else ''}; "
                  f"lowest test data loss: {lowest}. Saved the four runs, metrics.json, compare.png and "
                  f"report.html to {out}")
