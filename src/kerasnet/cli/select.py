"""``kerasnet select``: stability selection of the input features, its probabilities and the error bound."""

from __future__ import annotations

import click

from ..runs.folder import check_out_dir
from ._columns import lambdas_option, quiet_option, sample_options, take_columns
from ._common import (
    HIDDEN,
    LEARNING_RATE,
    MAX_BATCH_SIZE,
    MAX_COUNT,
    MAX_EPOCHS,
    SEED,
    STRENGTH,
    FiniteRange,
    argument_errors,
    count,
    data_options,
    is_argument_error,  # noqa: F401 - kept importable from here
    load_data,
    out_options,
)

#: Features shown in the terminal's table (all of them are in stability.csv).
TABLE_ROWS = 20
#: Fewest rows ``select`` takes: each half-sample has half of them.
MIN_ROWS = 20


def check_threshold(ctx, param, value):
    """``--threshold`` in (0.5, 1]: the bound on false selections needs more than half."""
    if not 0.5 < value <= 1:
        raise click.BadParameter(
            f"{value:g} is not in (0.5, 1]: the bound on false selections holds only above one half; "
            "give a probability such as 0.75 (or 0.9 for fewer, surer features).", ctx, param)
    return value


def check_halves(y, task) -> None:
    """Refuse rows too few to halve into meaningful half-samples (with every class in each half)."""
    import numpy as np

    from ..data import InputError
    from ..errors import listing

    n = len(y)
    if n < MIN_ROWS:
        raise InputError(f"kerasnet select fits a network on each half of the rows, so it needs at least "
                         f"{MIN_ROWS} rows, got {n} (halves of {n // 2} rows select nothing reliably); give "
                         "more rows.")
    if task in ("binary", "multiclass"):
        labels, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
        rare = labels[counts < 2]
        if len(rare):
            raise InputError(f"class {listing(rare, quote=True)} has a single row, and every half-sample "
                             "needs each class; add rows of that class or leave its rows out.")


def stability_table(stable, title: str = "kerasnet select", rows: int = TABLE_ROWS):
    """A rich table of the ``rows`` features most often selected (probability in the region first)."""
    from rich.table import Table
    from rich.text import Text

    frame = stable.to_frame()
    shown = frame.head(rows)
    if len(shown) < len(frame):
        title = f"{title}: {len(shown)} of {len(frame)} shown"
    table = Table(title=title)
    for name in ("feature", "probability", "max probability", "selected"):
        table.add_column(name, justify="left" if name == "feature" else "right")
    for row in shown.itertuples(index=False):
        table.add_row(Text(str(row.feature)), f"{row.probability:.2f}", f"{row.max_probability:.2f}",
                      "*" if row.selected else "", style="bold" if row.selected else None)
    return table


def summary_line(stable) -> str:
    """How many features were selected and the bound on false selections, in one line."""
    k, d = len(stable.selected_), len(stable.feature_names_)
    if stable.region_ < 0:
        return (f"0 of {d} features selected: even at the strongest lambda the bound on false selections "
                f"({stable.bound_[0]:.3g}) exceeds --pfer {stable.pfer:g}; raise --pfer or --threshold.")
    names = ", ".join(stable.selected_names_[:10]) + (", ..." if k > 10 else "")
    return (f"{k} of {d} features selected at threshold {stable.threshold:g} (lambda "
            f"{stable.lambdas_[0]:.4g} down to {stable.lambdas_[stable.region_]:.4g}): at most "
            f"{stable.expected_false_:.2g} false selections expected (--pfer {stable.pfer:g})"
            + (f"; {names}" if k else ""))


@click.command("select")
@data_options
@click.option("--hidden", type=HIDDEN, default="32", show_default=True,
              help="Hidden layer sizes ('none': the linear group lasso).")
@click.option("--n-pairs", type=count(1, MAX_COUNT), default=25, show_default=True,
              help="Complementary pairs of half-samples (2 x this many fits per strength).")
@click.option("--threshold", type=float, default=0.75, show_default=True, callback=check_threshold,
              help="Selection probability a feature must reach, in (0.5, 1].")
@click.option("--pfer", type=FiniteRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Expected false selections allowed: the strengths searched stop where the bound "
                   "exceeds it.")
@click.option("--n-lambdas", type=count(1, MAX_COUNT), default=12, show_default=True,
              help="Strengths on the log grid from where no feature survives down.")
@click.option("--lambda-min-ratio", type=FiniteRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True, help="Smallest strength as a fraction of the largest.")
@click.option("--epochs", type=count(1, MAX_EPOCHS), default=100, show_default=True,
              help="Epochs of every member (the dense starts stop early, --patience).")
@click.option("--batch-size", type=count(1, MAX_BATCH_SIZE), default=32, show_default=True,
              help="Rows per optimizer step.")
@click.option("--learning-rate", type=LEARNING_RATE, default=1e-3, show_default=True,
              help="Adam's step size.")
@click.option("--patience", type=count(1, MAX_COUNT), default=10, show_default=True,
              help="Early stopping, chosen by the other half-samples' members (never a member's own rows).")
@click.option("--hidden-l2", type=STRENGTH, default=1e-2, show_default=True,
              help="Fixed L2 strength on every kernel but the first layer's.")
@click.option("--plain", is_flag=True,
              help="The plain group lasso on each half (one fit) instead of the adaptive one (two fits).")
@click.option("--task", type=click.Choice(["auto", "binary", "multiclass", "regression"]), default="auto",
              show_default=True, help="auto: strings/booleans or <= 20 integer values are classes.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of halves, weights, batches.")
@sample_options("weights_column")
@lambdas_option
@quiet_option
@out_options
def command(data, target, dataset, drop, hidden, n_pairs, threshold, pfer, n_lambdas, lambda_min_ratio,
            epochs, batch_size, learning_rate, patience, hidden_l2, plain, task, seed, weights_column,
            lambdas, quiet, out, overwrite):
    """Stability selection of DATA's (or --dataset's) input features; the results go to --out.

    Each of --n-pairs random splits of the rows into two halves gives two half-samples; a
    group-lasso network on the input features is fit on every half at every strength, all in
    one stacked fit. A feature is selected when the share of halves keeping it reaches
    --threshold at some strength where the bound on the expected number of false selections
    stays within --pfer (Meinshausen & Buhlmann; Shah & Samworth's complementary pairs).
    Writes stability.csv, probabilities.csv, metrics.json, stability.png and report.html.
    """
    import pandas as pd

    from ..data import Preprocessor, check_finite, infer_task
    from ..path import stability_selection
    from ..runs.records import data_record, run_record, stability_record
    from ..runs.save import save_select_run
    from ._common import report_warning, stdout_console

    check_out_dir(out, overwrite, inputs=[data])
    features, y, source = load_data(data, target, dataset, drop)
    features, rows = take_columns(features, {target: "the target (--target)"} if target else None,
                                  weights_column=weights_column)
    check_finite(features, "features")
    task = infer_task(y) if task == "auto" else task
    check_halves(y, task)
    # Numeric / one-hot encoding from all rows: each half is standardized with its own rows.
    pre = Preprocessor(task=task).fit(features, y)
    X = pd.DataFrame(pre.transform(features), columns=pre.feature_names_)
    y_enc = pre.encode_target(y)
    adaptive = not plain
    with argument_errors():
        stable = stability_selection(X, y_enc, hidden=hidden, task=task, n_pairs=n_pairs, n_lambdas=n_lambdas,
                                     lambda_min_ratio=lambda_min_ratio, threshold=threshold, pfer=pfer,
                                     epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                                     patience=patience, hidden_l2=hidden_l2, adaptive=adaptive, seed=seed,
                                     verbose=0 if quiet else 1, lambdas=lambdas,
                                     sample_weight=rows["weights_column"])
    metrics = {
        "kind": "select",
        "task": task,
        "target": pre.target_,
        "classes": pre.classes_,
        "n_features_in": len(pre.input_columns),
        "n_features": pre.n_features_out,
        "settings": {"data": source, "drop": list(drop), "hidden": list(hidden), "n_pairs": n_pairs,
                     "threshold": threshold, "pfer": pfer, "n_lambdas": n_lambdas,
                     "lambda_min_ratio": lambda_min_ratio, "epochs": epochs, "batch_size": batch_size,
                     "learning_rate": learning_rate, "patience": patience, "hidden_l2": hidden_l2,
                     "adaptive": adaptive, "seed": seed, "weights_column": weights_column,
                     "lambdas": None if lambdas is None else list(lambdas)},
        "stability": stability_record(stable, n_pairs),
        "data": data_record(y, list(range(len(y))), [], pre),
    }
    metrics.update(run_record(seed))
    written, report_error = save_select_run(out, overwrite, stable, metrics, inputs=[data])
    report_warning(report_error, out)
    console = stdout_console()
    title = f"kerasnet select ({task}, {2 * n_pairs} half-samples, {'plain' if plain else 'adaptive'})"
    console.print(stability_table(stable, title=title))
    # Feature names are text, not rich markup; one line however long, for grep and copy.
    console.print(summary_line(stable), markup=False, soft_wrap=True)
    console.print(f"saved {', '.join(written)} to {out}")
