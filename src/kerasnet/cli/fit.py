"""``kerasnet fit``: train the penalized MLP on a table and save everything to a folder."""

from __future__ import annotations

import click

from ._common import HIDDEN, STRENGTH, atomic_dir, check_out_dir, data_options, load_data, out_options


def metrics_table(metrics: dict, title: str = "kerasnet fit"):
    """A rich table of train and validation: loss, data loss, penalty, accuracy / RMSE, sparsity."""
    from rich.table import Table

    score = "rmse" if metrics["task"] == "regression" else "accuracy"
    table = Table(title=title)
    table.add_column("rows")
    for name in ("n", "loss", "data loss", "penalty", "RMSE" if score == "rmse" else "accuracy", "sparsity"):
        table.add_column(name, justify="right")
    for split in ("train", "validation"):
        row = metrics.get(split)
        if row is None:
            continue
        table.add_row(
            split,
            str(row["n_rows"]),
            f"{row['loss']:.4f}",
            f"{row['data_loss']:.4f}",
            f"{row['penalty']:.4f}",
            f"{row[score]:.4f}",
            f"{row['sparsity']:.1%}",
        )
    return table


@click.command("fit")
@data_options
@click.option("--l1", type=STRENGTH, default=0.0, show_default=True, help="L1 strength on every kernel.")
@click.option("--l2", type=STRENGTH, default=0.0, show_default=True, help="L2 strength on every kernel.")
@click.option("--hidden", type=HIDDEN, default="64,64", show_default=True, help="Hidden layer sizes.")
@click.option("--epochs", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=1e-3, show_default=True)
@click.option(
    "--validation-split",
    type=click.FloatRange(0, 1, max_open=True),
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
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for split, weights and shuffling.")
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
    out,
    overwrite,
):
    """Train an MLP with an L1-L2 penalty on DATA (or --dataset) and save it to --out.

    Writes model.keras (loads with plain Keras), preprocessing.json, history.csv,
    metrics.json, learning_curves.png and report.html (with weight_histograms.png).
    """
    from ._common import stdout_console
    from ._train import save_run, train, write_report

    check_out_dir(out, overwrite)  # refuse before spending time on training
    features, y, source = load_data(data, target, dataset, drop)
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
        verbose=2,
        settings={"data": source, "drop": list(drop)},
    )
    run.metrics["kind"] = "fit"
    with atomic_dir(out, overwrite) as folder:
        save_run(run, folder)
        write_report(folder)
    console = stdout_console()
    console.print(
        metrics_table(run.metrics, title=f"kerasnet fit ({run.metrics['task']}, l1={l1:g}, l2={l2:g})")
    )
    console.print(
        "saved model.keras, preprocessing.json, history.csv, metrics.json, learning_curves.png, "
        f"report.html to {out}"
    )
