"""``kerasnet path``: the regularization path with k-fold CV, the selected model and its files."""

from __future__ import annotations

import math

import click

from ..errors import listing
from ..path import defaults
from ..path.measure_names import MEASURES, check_measure
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
    count,
    count_or_auto,
    data_options,
    is_argument_error,
    load_data,
    load_survival,
    out_options,
)
from ._tables import path_table, ratios_table, selected_line
from ._types import Ratios


def not_a_column(flag, name, columns, taken=None) -> str:
    """Why ``name`` given to ``flag`` is no input column: it is the target, it was dropped, or it is
    not in the data (``taken`` maps the target's and dropped columns' names to what they are)."""
    if taken and name in taken:
        return f"{flag} {name!r} is {taken[name]}, not an input column; name one of {listing(columns, 10)}."
    return f"{flag} {name!r} is not a column of the data; the input columns are {listing(columns, 10)}."


def taken_columns(target, drop, time_column=None, event_column=None) -> dict:
    """The columns that are no inputs and what they are, for :func:`not_a_column`'s message."""
    taken = {name: "left out by --drop" for name in drop}
    targets = (("--target", target), ("--time-column", time_column), ("--event-column", event_column))
    for flag, name in targets:
        if name:
            taken[name] = f"the target ({flag})"
    return taken


def offset_of(features, column, task, taken=None):
    """``(features without the offset column, the offset as floats or None)``: ``--offset-column``."""
    from ..data import InputError

    if column is None:
        return features, None
    if task != "poisson":
        raise InputError("--offset-column is the log exposure of --task poisson; add --task poisson.")
    if column not in features.columns:
        raise InputError(not_a_column("--offset-column", column, list(map(str, features.columns)), taken))
    import numpy as np
    import pandas as pd

    offset = pd.to_numeric(features[column], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(offset)):
        raise InputError(f"--offset-column {column!r} must hold a finite number (the log exposure) on every "
                         "row; fill or drop the rows without one.")
    return features.drop(columns=[column]), offset


def feature_factors(pre, penalty_factor, exclude, feature_selection, taken=None):
    """``--penalty-factor COLUMN=FACTOR`` and ``--exclude COLUMN`` as one factor per encoded
    feature (a one-hot column's features share its factor), or None when neither is given."""
    from ..data import InputError

    if not penalty_factor and not exclude:
        return None
    if feature_selection:
        raise InputError("--penalty-factor and --exclude weigh the elastic-net path; leave out "
                         "--feature-selection, or them.")
    columns = {spec["name"]: spec for spec in pre.columns_}
    given = {}
    for item in penalty_factor:
        name, sep, value = item.rpartition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or not number >= 0:
            raise InputError(f"--penalty-factor {item!r} must be COLUMN=FACTOR with a factor >= 0 (0: "
                             "unpenalized, inf: left out), e.g. --penalty-factor age=0.")
        given[name] = number
    given.update({name: float("inf") for name in exclude})
    unknown = [name for name in given if name not in columns]
    if unknown:
        flag = "--exclude" if unknown[0] in exclude else "--penalty-factor"
        if taken and unknown[0] in taken:
            raise InputError(not_a_column(flag, unknown[0], list(columns), taken))
        raise InputError(f"--penalty-factor/--exclude name a column the data does not have: {unknown[0]!r}; "
                         f"the input columns are {', '.join(list(columns)[:10])}.")
    factors = [given.get(name, 1.0) for name in columns]
    if all(f == float("inf") for f in factors):
        raise InputError("--penalty-factor inf / --exclude leave out every input column, so nothing is left "
                         "to fit; keep at least one.")
    if all(f == 0 or f == float("inf") for f in factors):
        raise InputError("--penalty-factor leaves no input column penalized (every factor is 0 or inf), so "
                         "the strength changes nothing and there is no path; give some column a factor > 0.")
    factor = []
    for spec in pre.columns_:
        width = 1 if spec["kind"] == "numeric" else len(spec["categories"])
        factor += [given.get(spec["name"], 1.0)] * width
    return factor


def check_varying(pre, X) -> None:
    """Refuse features that are all constant, as the library does (no gradient, so no strengths)."""
    import numpy as np

    from ..data import InputError

    if X.shape[1] and np.ptp(X, axis=0).max() > 0:
        return
    raise InputError(f"every feature column is constant ({listing(pre.input_columns, 8)}), so no strength "
                     "changes the fit and there is no path; give features whose values vary.")


def check_scheduler(address) -> None:
    """Refuse a ``--scheduler`` that is no Dask address before loading anything (a missing port...)."""
    from ..data import InputError
    from ..path.distributed import MISSING_DASK

    try:
        from distributed.comm.addressing import parse_address, parse_host_port
    except ImportError:
        raise InputError(MISSING_DASK) from None
    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as err:
        raise InputError(f"--scheduler {address!r} is not a Dask scheduler address ({err}); give one such as "
                         "tcp://host:8786.") from None


def worse_than_constant(path, chosen, learning_rate):
    """Why the selected refit diverged, or None: its deviance on its own rows is more than twice the
    constant model's (%Dev below -100%), which only overshooting steps give (the constant model is in
    reach of every network: zero kernels)."""
    from ..runs.training import BLOWN_UP

    ratio = math.nan if path.dev_ratio_ is None else float(path.dev_ratio_[chosen])
    if not ratio < 1 - BLOWN_UP:
        return None
    return (f"the selected model's deviance on its own rows is {1 - ratio:.3g} times the constant model's, "
            f"%Dev {100 * ratio:.0f}%, at learning rate {learning_rate:g}")


def check_feature_flags(feature_selection: bool, **flags) -> None:
    """Refuse the flags that act on selected features (--relax, --no-adaptive) without --feature-selection.

    (--hidden-l2 has a default that the recorded command line spells out, so it is let be.)
    """
    from ..data import InputError

    given = ["--" + name.replace("_", "-") for name, on in flags.items() if on]
    if given and not feature_selection:
        raise InputError(f"{' and '.join(given)} act{'s' if len(given) == 1 else ''} on the selected input "
                         "features; add --feature-selection, or leave "
                         f"{'it' if len(given) == 1 else 'them'} out.")


@click.command("path")
@data_options
@click.option("--l1-ratio", type=Ratios(), default="0.5", show_default=True,
              help="Share of L1 in the penalty (glmnet's alpha). Several values (0.1,0.5,1) cross-validate "
                   "it too, on the same folds (glmnet's cva.glmnet): the best value's path is saved, "
                   "with ratios.csv.")
@click.option("--n-lambdas", type=count(1, MAX_COUNT), default=32, show_default=True,
              help="Strengths on the log grid from the constant network's strength down.")
@click.option("--lambda-min-ratio", type=FiniteRange(0, 1, min_open=True, max_open=True), default=1e-3,
              show_default=True,
              help="Smallest strength as a fraction of the largest (or of the lasso scale, if smaller).")
@click.option("--cv", type=count(2, MAX_COUNT), default=5, show_default=True, help="Folds.")
@click.option("--select", type=click.Choice(["1se", "min"]), default="1se", show_default=True,
              help="1se: largest strength within one SE of the best (glmnet's default); min: best mean.")
@click.option("--measure", type=click.Choice(list(MEASURES)), default="deviance", show_default=True,
              help="CV measure that chooses the strength (glmnet's type.measure): deviance (twice the log "
                   "loss, or squared error), class (misclassification), auc (binary), mse, mae, r2.")
@click.option("--proximal/--no-proximal", default=True, show_default=True,
              help="L1 as a soft-threshold after each step: exact zeros, so whole features drop out along "
                   "the path. --no-proximal: Keras's own l1_l2 (the L1 subgradient; weights shrink but do "
                   "not reach zero).")
@click.option("--feature-selection", is_flag=True,
              help="The strength as a group lasso on the input features (whole features drop out); every "
                   "other kernel keeps the fixed --hidden-l2. The adaptive group lasso unless --no-adaptive.")
@click.option("--relax", is_flag=True,
              help="With --feature-selection: refit every point on exactly its features without the feature "
                   "penalty (glmnet's relax); CV chooses between the two.")
@click.option("--no-adaptive", is_flag=True,
              help="With --feature-selection: the plain group lasso (one path) instead of the adaptive one.")
@click.option("--hidden-l2", type=STRENGTH, default=1e-2, show_default=True,
              help="With --feature-selection: the fixed L2 strength on every kernel but the first layer's.")
@click.option("--penalty-factor", "penalty_factor", multiple=True, metavar="COLUMN=FACTOR",
              help="glmnet's penalty.factor for one input column (repeatable; all its one-hot features): 0 "
                   "leaves it unpenalized, inf leaves it out; the rest keep 1, all rescaled to sum to the "
                   "number of features.")
@click.option("--exclude", multiple=True, metavar="COLUMN",
              help="Leave an input column out of the model (glmnet's exclude; repeatable).")
@click.option("--hidden", type=HIDDEN, default="64,64", show_default=True, help="Hidden layer sizes.")
@click.option("--epochs", type=count(1, MAX_EPOCHS), default=None,
              help="A fixed budget: at most this many epochs of every member (early stopping, --patience, "
                   "usually ends them sooner). Default: fit_path's rule, each strength trains until its "
                   "folds' validation data loss stops improving (--patience epochs without a "
                   f"{defaults.MIN_DELTA:.1%} fall, after {defaults.WARMUP_STEPS} warm-up steps), at most "
                   f"{defaults.MAX_EPOCHS} epochs; {defaults.EPOCHS} with --no-early-stopping.")
@click.option("--patience", type=count_or_auto(1, MAX_COUNT), default="auto", show_default=True,
              help="Early stopping: each fold's epoch is the best of the OTHER folds' mean validation "
                   "loss, searched until it went this many epochs without improving (never its own rows). "
                   f"auto: {defaults.PATIENCE} epochs, fewer on large tables "
                   f"({defaults.PATIENCE_STEPS} steps in whole epochs, at least {defaults.MIN_PATIENCE}).")
@click.option("--no-early-stopping", is_flag=True,
              help=f"Train every member for --epochs ({defaults.EPOCHS} when not given).")
@click.option("--batch-size", type=count_or_auto(1, MAX_BATCH_SIZE), default="auto", show_default=True,
              help=f"Rows per optimizer step. auto: {defaults.BATCH_SIZE} up to 131,071 rows, then the power "
                   "of two that keeps an epoch at 2,048 to 4,095 steps.")
@click.option("--learning-rate", type=LEARNING_RATE, default=1e-3, show_default=True,
              help="Adam's step size.")
@click.option("--task", type=click.Choice(["auto", "binary", "multiclass", "regression", "poisson", "cox"]),
              default="auto", show_default=True,
              help="auto: strings/booleans or <= 20 integer values are classes; poisson: counts (log link); "
                   "cox: survival times (--time-column, --event-column; Breslow's partial likelihood).")
@click.option("--offset-column", metavar="COLUMN",
              help="With --task poisson: the column holding each row's log exposure (glmnet's offset); it "
                   "is not a feature. The saved model predicts the rate (offset 0).")
@click.option("--time-column", metavar="COLUMN",
              help="With --task cox: the column of times (> 0) to the event or to censoring.")
@click.option("--event-column", metavar="COLUMN",
              help="With --task cox: the column of events (1 or true: it happened at that time; 0 or false: "
                   "censored). The saved model predicts the log relative hazard.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for folds, weights, batches.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler (tcp://host:8786): train the members on its workers; same results. "
                   "Needs Dask: pip install 'dask[distributed]'.")
@sample_options()
@lambdas_option
@quiet_option
@out_options
def command(data, target, dataset, drop, l1_ratio, n_lambdas, lambda_min_ratio, cv, select, measure, proximal,
            feature_selection, relax, no_adaptive, hidden_l2, penalty_factor, exclude, hidden, epochs,
            patience, no_early_stopping, batch_size, learning_rate, task, offset_column, time_column,
            event_column, seed, scheduler, weights_column, foldid_column, groups_column, lambdas, quiet,
            out, overwrite):
    """Fit the elastic-net path with CV on DATA (or --dataset) and save the selected model to --out.

    Every strength x fold is one member of a single stacked fit; each strength is then refit
    on all rows. Writes model.keras (the selected strength, plain Keras), preprocessing.json,
    path.csv, metrics.json, path.png and report.html. With --scheduler the members are
    split across a Dask cluster's workers (every worker needs kerasnet installed). With
    --feature-selection the strength selects whole input features; the features kept are
    printed and recorded in metrics.json.
    """
    import pandas as pd

    from ..data import DATASETS, InputError, Preprocessor, check_finite, infer_task
    from ..path import check_fold_count, fit_path
    from ..runs.records import data_record, path_metrics, refit_scores
    from ..runs.save import save_path_run
    from ._common import report_warning, stdout_console

    check_feature_flags(feature_selection, relax=relax, no_adaptive=no_adaptive)
    if feature_selection and isinstance(l1_ratio, tuple):
        raise InputError("--l1-ratio takes one value with --feature-selection (its group lasso has no L1 "
                         "share); give one value or leave it out.")
    check_out_dir(out, overwrite, inputs=[data])
    if scheduler is not None:
        try:  # fail before loading and encoding, with the same words as the library
            import dask.distributed  # noqa: F401
        except ImportError:
            from ..path.distributed import MISSING_DASK

            raise InputError(MISSING_DASK) from None
        check_scheduler(scheduler)
    if task == "cox" or (task == "auto" and DATASETS.get(dataset) == "cox"):
        task = "cox"
        features, y, source = load_survival(data, target, dataset, drop, time_column, event_column)
    elif time_column or event_column:
        raise InputError("--time-column and --event-column are the target of --task cox; add --task cox, or "
                         "leave them out.")
    else:
        features, y, source = load_data(data, target, dataset, drop)
    taken = (taken_columns(None, drop, *map(str, y.columns)) if task == "cox"
             else taken_columns(str(y.name), drop))
    features, offset = offset_of(features, offset_column, task, taken)
    features, rows = take_columns(features, taken, weights_column=weights_column, foldid_column=foldid_column,
                                  groups_column=groups_column)
    check_finite(features, "features")
    task = infer_task(y) if task == "auto" else task
    if rows["foldid_column"] is None:
        check_fold_count(cv, y, task)  # with the user's own labels in the message
    else:
        cv = len(set(rows["foldid_column"]))  # --foldid-column's folds replace --cv
    try:
        check_measure(measure, task)
    except ValueError as err:
        raise InputError(str(err)) from None  # the command line words measure= as --measure
    # One-hot / numeric encoding from all rows; fit_path standardizes each fold with its own
    # training rows, which undoes any affine scaling done here, so no fold statistics leak.
    pre = Preprocessor(task=task).fit(features, y)
    pre.offset_column_ = offset_column  # saved with the model: predict gives counts from it alone
    X, y_enc = pre.transform(features), pre.encode_target(y)
    check_varying(pre, X)
    factors = feature_factors(pre, penalty_factor, exclude, feature_selection, taken)
    try:
        # A frame, so the path (its figure, its selected features) names the encoded columns.
        named = pd.DataFrame(X, columns=pre.feature_names_)
        result = fit_path(named, y_enc, hidden=hidden, task=task, l1_ratio=l1_ratio, n_lambdas=n_lambdas,
                        lambda_min_ratio=lambda_min_ratio, cv=cv, epochs=epochs, batch_size=batch_size,
                        learning_rate=learning_rate, early_stopping=not no_early_stopping,
                        patience=patience, proximal=proximal, seed=seed, scheduler=scheduler,
                        verbose=0 if quiet else 1, lambdas=lambdas, sample_weight=rows["weights_column"],
                        foldid=rows["foldid_column"], groups=rows["groups_column"],
                        measure=measure, feature_selection=feature_selection, relax=relax,
                        adaptive=not no_adaptive, hidden_l2=hidden_l2, penalty_factor=factors, offset=offset)
    except ConnectionError as err:  # an unreachable --scheduler is bad input, not a crash
        raise InputError(str(err)) from None
    except InputError:
        raise
    except ValueError as err:
        if not is_argument_error(err):
            raise
        raise InputError(str(err)) from None  # the library's checks, worded as flags
    ratios = result if isinstance(l1_ratio, tuple) else None  # RatioPaths: the best value's path is the run's
    path = result.best_ if ratios is not None else result
    model = path.model(select)
    chosen = path.index(select)
    settings = {"data": source, "drop": list(drop), "offset_column": offset_column,
                "weights_column": weights_column, "foldid_column": foldid_column,
                "groups_column": groups_column,
                "lambdas": None if lambdas is None else list(lambdas),
                     "time_column": pre.target_ if task == "cox" else None, "event_column": pre.event_,
                     "penalty_factor": list(penalty_factor),
                     "exclude": list(exclude),
                     "l1_ratio": list(l1_ratio) if ratios is not None else l1_ratio, "n_lambdas": n_lambdas,
                     "lambda_min_ratio": lambda_min_ratio, "cv": cv, "select": select, "measure": measure,
                     "proximal": bool(path.proximal), "hidden": list(hidden), "epochs": epochs,
                     "patience": path.patience_, "early_stopping": not no_early_stopping,
                     "batch_size": path.batch_size_, "max_epochs": path.max_epochs_,
                     "learning_rate": learning_rate, "seed": seed,
                     "scheduler": scheduler, "feature_selection": bool(feature_selection),
                     "relax": bool(relax), "adaptive": bool(feature_selection and not no_adaptive),
                     "hidden_l2": hidden_l2 if feature_selection else None}
    worse = worse_than_constant(path, chosen, learning_rate)
    metrics = path_metrics("path", path, pre, select, settings, data_record(y, list(range(len(y))), [], pre),
                           seed, train=refit_scores(path, X, y_enc, select, offset))
    metrics["diverged"] = worse is not None
    if worse is not None:
        metrics["diverged_reason"] = worse
    tables = {"curves.csv": path.curves(select)}
    if ratios is not None:  # every value's choice, and every value's path for the report's curves
        metrics["path"]["l1_ratios"] = [float(r) for r in ratios.l1_ratios_]
        tables.update({"ratios.csv": ratios.summary(), "ratio_paths.csv": ratios.to_frame()})
    written, report_error = save_path_run(out, overwrite, model, pre, path, metrics, inputs=[data],
                                          tables=tables)
    report_warning(report_error, out)
    console = stdout_console()
    penalty = "group lasso on the features" if feature_selection else f"l1_ratio={path.l1_ratio:g}"
    if ratios is not None:
        console.print(ratios_table(ratios, title=f"kerasnet path over l1_ratio ({task}, {cv}-fold CV)"))
        console.print(ratios.comparison_text(), markup=False, soft_wrap=True)
        penalty += f", the best of {', '.join(f'{r:g}' for r in ratios.l1_ratios_)}"
    title = f"kerasnet path ({task}, {penalty}, {cv}-fold CV)"
    console.print(path_table(path, select, title=title))
    console.print(
        f"lambda_min = {path.lambda_min_:.4g}, lambda_1se = {path.lambda_1se_:.4g}; selected ({select}): "
        f"{path.lambdas_[chosen]:.4g}, CV {path.measure} {path.cv_mean_[chosen]:.4f} +- "
        f"{path.cv_se_[chosen]:.4f}"
    )
    if feature_selection:
        console.print(selected_line(path, select), markup=False, soft_wrap=True)  # names are not markup
    if path.baselines_ is not None:  # against the null and the linear model, on the same folds
        console.print(path.baseline_text(), markup=False, soft_wrap=True)
    console.print(f"saved {', '.join(written)} to {out}")
    if worse is not None:
        from ._common import warning_line

        warning_line(f"training diverged ({worse}): the saved model predicts nothing useful; retry with a "
                     "smaller --learning-rate.")
