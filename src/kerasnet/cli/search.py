"""``kerasnet search``: a grid of network settings cross-validated in one stacked fit, the choice saved."""

from __future__ import annotations

import click

from ..path import defaults
from ..path.measure_names import MEASURES
from ..runs.folder import check_out_dir
from ._columns import quiet_option, sample_options, take_columns
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
    count_or_auto,
    data_options,
    load_data,
    out_options,
)
from ._tables import search_table
from ._types import Listed


def search_space(lambdas, l1_ratio, learning_rate, dropout, hidden) -> dict:
    """The library's ``space`` from the flags (a strength axis only when ``--lambda`` is given)."""
    from ..data import InputError

    if any(h == () for h in hidden):
        raise InputError("--hidden none is the linear model, which has no width to search; give layer "
                         "sizes such as --hidden 16 --hidden 64,64 (or use kerasnet path --hidden none).")
    space = {"l1_ratio": list(l1_ratio), "learning_rate": list(learning_rate), "dropout": list(dropout),
             "hidden": list(dict.fromkeys(hidden))}
    if lambdas is not None:
        space["lambda"] = list(lambdas)
    return space


def search_record(result, select) -> dict:
    """metrics.json's ``search``: both choices, the saved one, the optimism, the nested estimate."""

    def point(i):
        config = result.points_[i]
        return {**config.as_dict(), "hidden": list(config.hidden), "point": int(i) + 1,
                "cv": float(result.cv_mean_[i]), "cv_se": float(result.cv_se_[i]),
                "epochs": int(result.epochs_[i])}

    nested = None
    if result.nested_:
        n = result.nested_
        nested = {"mean": n["mean"], "se": n["se"], "folds": [float(v) for v in n["folds"]],
                  "chosen": [{**c.as_dict(), "hidden": list(c.hidden)} for c in n["chosen"]]}
    return {"measure": result.measure, "select": select, "n_points": len(result.points_),
            "n_configurations": result.n_configs, "n_splits": result.n_splits,
            "best": point(result.best_index_), "simplest": point(result.simplest_index_),
            "selected": point(result.point_index(select)), "optimism": result.optimism_, "nested": nested,
            "conclusion": result.conclusion("--nested 5")}


@click.command("search")
@data_options
@click.option("--lambda", "lambdas", type=Listed(STRENGTH, "1e-3,1e-2"), default=None,
              metavar="L[,L...]",
              help="Strengths to try, comma-separated. Default: each configuration's own grid of "
                   "--n-lambdas strengths.")
@click.option("--l1-ratio", type=Listed(FiniteRange(0, 1), "0.5,1"), default="0.5", show_default=True,
              help="Shares of L1 in the penalty to try (glmnet's alpha), comma-separated.")
@click.option("--learning-rate", type=Listed(LEARNING_RATE, "1e-3,3e-3"), default="1e-3",
              show_default=True, help="Adam step sizes to try, comma-separated.")
@click.option("--dropout", type=Listed(FiniteRange(0, 1, max_open=True), "0,0.2"), default="0",
              show_default=True, help="Dropout rates after every hidden layer to try, comma-separated.")
@click.option("--hidden", type=HIDDEN, multiple=True, default=["64,64"], show_default=True,
              help="Hidden layer sizes to try; repeat it: --hidden 16 --hidden 64 --hidden 64,64. Widths of "
                   "one depth train in one stacked fit (masked units); each depth is its own.")
@click.option("--n-iter", type=count(1, MAX_COUNT), default=None,
              help="Try this many configurations drawn at random from the grid instead of all of them.")
@click.option("--n-lambdas", type=count(1, MAX_COUNT), default=8, show_default=True,
              help="Without --lambda: strengths per configuration, from the analytic top down.")
@click.option("--lambda-min-ratio", type=FiniteRange(0, 1, min_open=True, max_open=True), default=1e-3,
              show_default=True, help="Without --lambda: smallest strength as a fraction of the largest.")
@click.option("--cv", type=count(2, MAX_COUNT), default=5, show_default=True, help="Folds.")
@click.option("--select", type=click.Choice(["1se", "min"]), default="1se", show_default=True,
              help="1se: the simplest point within one SE of the best (fewest units, then most dropout, then "
                   "the strongest penalty); min: the best CV mean.")
@click.option("--measure", type=click.Choice(list(MEASURES)), default="deviance", show_default=True,
              help="CV measure that chooses (glmnet's type.measure).")
@click.option("--nested", type=count(2, MAX_COUNT), default=None,
              help="Also estimate the whole search's error by nested CV: this many outer folds, each a "
                   "search on its training rows scored on its test rows (that many times the work).")
@click.option("--epochs", type=count(1, MAX_EPOCHS), default=None,
              help="A fixed budget per member. Default: fit_path's rule (each point trains until its folds' "
                   f"validation loss stops improving, at most {defaults.MAX_EPOCHS} epochs).")
@click.option("--patience", type=count_or_auto(1, MAX_COUNT), default="auto", show_default=True,
              help="Early stopping's patience (cross-fit: never a fold's own rows).")
@click.option("--no-early-stopping", is_flag=True,
              help=f"Train every member for --epochs ({defaults.EPOCHS} when not given).")
@click.option("--batch-size", type=count_or_auto(1, MAX_BATCH_SIZE), default="auto", show_default=True,
              help="Rows per optimizer step (auto: fit_path's rule).")
@click.option("--task", type=click.Choice(["auto", "binary", "multiclass", "regression"]), default="auto",
              show_default=True, help="auto: strings/booleans or <= 20 integer values are classes.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for folds, weights, batches.")
@sample_options("weights_column")
@quiet_option
@out_options
def command(data, target, dataset, drop, lambdas, l1_ratio, learning_rate, dropout, hidden, n_iter,
            n_lambdas, lambda_min_ratio, cv, select, measure, nested, epochs, patience, no_early_stopping,
            batch_size, task, seed, weights_column, quiet, out, overwrite):
    """Cross-validate a grid of settings on DATA (or --dataset) and save the chosen model to --out.

    Every configuration (strength, l1_ratio, learning rate, dropout, width) x fold is a member of
    one stacked fit per depth, scored out of fold with cross-fit early stopping; the best point
    and the simplest within one SE are refit on all rows. Writes model.keras (the --select
    choice, plain Keras), preprocessing.json, search.csv (every point), metrics.json,
    search.png and report.html.
    """
    import pandas as pd

    from ..data import InputError, Preprocessor, check_finite, infer_task
    from ..path import check_fold_count
    from ..runs.records import data_record, run_record
    from ..runs.save import save_search_run
    from ..search import search
    from ._common import report_warning, stdout_console

    check_out_dir(out, overwrite, inputs=[data])
    space = search_space(lambdas, l1_ratio, learning_rate, dropout, hidden)
    features, y, source = load_data(data, target, dataset, drop)
    features, rows = take_columns(features, {target: "the target (--target)"} if target else None,
                                  weights_column=weights_column)
    check_finite(features, "features")
    task = infer_task(y) if task == "auto" else task
    if task not in ("binary", "multiclass", "regression"):
        raise InputError(f"kerasnet search takes a binary, multiclass or regression target; this one is "
                         f"{task} (use kerasnet path for it).")
    check_fold_count(cv, y, task)
    # Numeric / one-hot encoding from all rows; the search standardizes each fold with its own rows.
    pre = Preprocessor(task=task).fit(features, y)
    X = pd.DataFrame(pre.transform(features), columns=pre.feature_names_)
    y_enc = pre.encode_target(y)
    with argument_errors():
        result = search(X, y_enc, space, cv=cv, n_iter=n_iter, task=task, measure=measure,
                        n_lambdas=n_lambdas, lambda_min_ratio=lambda_min_ratio, epochs=epochs,
                        batch_size=batch_size, early_stopping=not no_early_stopping, patience=patience,
                        seed=seed, verbose=0 if quiet else 1, nested=nested,
                        sample_weight=rows["weights_column"])
    model = result.model(select)
    chosen = result.point_index(select)
    point, outputs = result.points_[chosen], result.refits_[chosen][0][-1][0].shape[1]
    as_lists = {k: [list(v) if isinstance(v, tuple) else v for v in values] for k, values in space.items()}
    grid = {"n_lambdas": n_lambdas, "lambda_min_ratio": lambda_min_ratio} if lambdas is None else {}
    metrics = {
        "kind": "search", "task": task, "target": pre.target_, "classes": pre.classes_,
        "n_features_in": len(pre.input_columns), "n_features": pre.n_features_out,
        "settings": {"data": source, "drop": list(drop), "space": as_lists, "n_iter": n_iter, **grid,
                     "cv": cv, "select": select,
                     "measure": measure, "nested": nested, "epochs": epochs,
                     "early_stopping": not no_early_stopping, "seed": seed, "weights_column": weights_column},
        "model": {"layers": [X.shape[1], *point.hidden, outputs], "activation": "relu",
                  "dropout": point.dropout,
                  "penalty": {"l1": point.lam * point.l1_ratio, "l2": point.lam * (1 - point.l1_ratio) / 2},
                  "optimizer": f"adam (learning rate {point.learning_rate:g})",
                  "n_params": int(model.count_params())},
        "search": search_record(result, select),
        "data": data_record(y, list(range(len(y))), [], pre),
    }
    metrics.update(run_record(seed))
    written, report_error = save_search_run(out, overwrite, model, pre, result, metrics, inputs=[data])
    report_warning(report_error, out)
    console = stdout_console()
    title = f"kerasnet search ({task}, {len(result.points_)} points x {cv}-fold CV)"
    console.print(search_table(result, select, title=title))
    console.print(result.conclusion("--nested 5"), markup=False, soft_wrap=True)
    console.print(f"saved {', '.join(written)} to {out}")
