"""``kerasnet fit``: train the penalized MLP on a table and save everything to a folder."""

from __future__ import annotations

import click

from ..runs.folder import check_out_dir
from ._columns import quiet_option, sample_options, take_columns
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


def metrics_table(metrics: dict, title: str = "kerasnet fit"):
    """A rich table of train and validation: objective, data loss, penalty, accuracy / RMSE, sparsity.

    When the run recorded what its exact zeros remove (``metrics["features_kept"]`` and
    ``metrics["prune"]``: fit with --proximal, --group-lasso or --prune), rows follow for the
    features kept, the units kept per layer and the parameters before -> after pruning.
    """
    from rich.table import Table

    from ..tasks import SCORE
    score = SCORE[metrics["task"]]
    table = Table(title=title)
    table.add_column("rows")
    # "objective": data loss + the whole penalty, which Keras's epoch lines call "objective" too (their
    # "loss" lacks a proximal L1).
    for name in ("n", "objective", "data loss", "penalty", "RMSE" if score == "rmse" else "accuracy",
                 "sparsity"):
        table.add_column(name, justify="right")
    for split in ("train", "validation"):
        row = metrics.get(split)
        if row is None:
            continue
        table.add_row(
            split,
            str(row["n_rows"]),
            f"{row['loss']:.4g}",
            f"{row['data_loss']:.4g}",
            f"{row['penalty']:.4g}",
            f"{row[score]:.4g}",
            f"{row['sparsity']:.1%}",
        )
    _sparsity_rows(table, metrics)
    return table


def _sparsity_rows(table, metrics: dict) -> None:
    kept, pruned = metrics.get("features_kept"), metrics.get("prune")
    if not kept or not pruned:
        return
    blank = [""] * (len(table.columns) - 2)
    table.add_section()
    features = f"{kept['n_kept']} / {kept['n_features']}"
    if len(pruned["kept_features"]) != kept["n_kept"]:
        # A feature feeding only dead units is still "selected" but pruning drops it.
        features += f" ({len(pruned['kept_features'])} after pruning)"
    table.add_row("features kept", features, *blank)
    # The last Dense layer is the output, whose units prune never removes.
    for layer, (before, after) in list(pruned["units"].items())[:-1]:
        table.add_row(f"units kept {layer}", f"{after} / {before}", *blank)
    table.add_row("parameters", f"{pruned['params_before']} -> {pruned['params_after']}", *blank)


@click.command("fit")
@data_options
@click.option("--l1", type=STRENGTH, default=0.0, show_default=True, help="L1 strength on every kernel.")
@click.option("--l2", type=STRENGTH, default=0.0, show_default=True, help="L2 strength on every kernel.")
@click.option("--hidden", type=HIDDEN, default="64,64", show_default=True, help="Hidden layer sizes.")
@click.option("--epochs", type=count(1, MAX_EPOCHS), default=100, show_default=True,
              help="Epochs of training (no early stopping: the validation rows are only watched).")
@click.option("--batch-size", type=count(1, MAX_BATCH_SIZE), default=32, show_default=True,
              help="Rows per optimizer step.")
@click.option("--learning-rate", type=LEARNING_RATE, default=1e-3, show_default=True,
              help="Adam's step size.")
@click.option(
    "--validation-split",
    type=FiniteRange(0, 1, max_open=True),
    default=0.2,
    show_default=True,
    help="Share of rows held out (stratified for classification); 0 for none.",
)
@click.option(
    "--task",
    type=click.Choice(["auto", "binary", "multiclass", "regression"]),
    default="auto",
    show_default=True,
    help="auto: strings/booleans or <= 20 integer values are classes, other numbers regression.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for split, weights, shuffling.")
@click.option(
    "--proximal",
    is_flag=True,
    help="Apply the --l1 part as a soft-threshold after each optimizer step, so weights "
    "become exactly zero (model.keras still loads with plain Keras, as L1L2).",
)
@click.option(
    "--group-lasso",
    type=STRENGTH,
    default=None,
    metavar="S",
    help="Feature selection: group lasso of strength S on each input feature's first-layer "
    "weights (proximal), so whole features drop out. model.keras then needs 'import kerasnet' "
    "to load.",
)
@click.option(
    "--prune",
    is_flag=True,
    help="Also save model_pruned.keras: the model without zeroed features and units, same "
    "inputs and predictions (loads after 'import kerasnet'; kerasnet predict --pruned).",
)
@sample_options("weights_column")
@quiet_option
@out_options
def command(
    data,
    target,
    dataset,
    drop,
    l1,
    l2,
    hidden,
    epochs,
    batch_size,
    learning_rate,
    validation_split,
    task,
    seed,
    proximal,
    group_lasso,
    prune,
    weights_column,
    quiet,
    out,
    overwrite,
):
    """Train an MLP with an L1-L2 penalty on DATA (or --dataset) and save it to --out.

    Writes model.keras (loads with plain Keras; with --group-lasso after 'import kerasnet'),
    preprocessing.json, history.csv, metrics.json, learning_curves.png and report.html (with
    weight_histograms.png); with --prune also model_pruned.keras. --proximal and
    --group-lasso give exact zeros; the summary then also shows the features kept, units
    kept and parameters before -> after pruning.
    """
    from ..runs import train
    from ..runs.save import save_fit_run
    from ..runs.sections import divergence_note
    from ._common import report_warning, stdout_console, warning_line

    check_out_dir(out, overwrite, inputs=[data])  # refuse before spending time on training
    if proximal and l1 == 0:
        warning_line("--proximal acts on the L1 part and --l1 is 0, so it changes nothing; "
                   "give --l1 too.")
    features, y, source = load_data(data, target, dataset, drop)
    features, rows = take_columns(features, {str(y.name): "the target (--target)"},
                                  weights_column=weights_column)
    run = train(
        features,
        y,
        task=None if task == "auto" else task,
        l1=l1,
        l2=l2,
        hidden=hidden,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        validation_split=validation_split,
        seed=seed,
        verbose=0 if quiet else 2,
        settings={"data": source, "drop": list(drop), "weights_column": weights_column},
        sample_weight=rows["weights_column"],
        proximal=proximal,
        group_lasso=group_lasso,
        prune=prune,
    )
    run.metrics["kind"] = "fit"
    written, report_error = save_fit_run(run, out, overwrite, inputs=[data])
    report_warning(report_error, out)
    title = f"kerasnet fit ({run.metrics['task']}, l1={l1:g}, l2={l2:g}"
    title += (", proximal" if proximal else "") + (
        f", group lasso={group_lasso:g})" if group_lasso is not None else ")")
    console = stdout_console()
    console.print(metrics_table(run.metrics, title=title))
    console.print(f"saved {', '.join(written)} to {out}")
    if note := divergence_note(run.metrics):
        warning_line(note)
