"""``kerasnet demo``: the regularization path with 5-fold CV on breast cancer, the selected model
against the same network without a penalty, on rows neither has seen."""

from __future__ import annotations

import click

from ..runs.folder import check_out_dir
from ..thresholds import NEAR_ZERO
from ._common import load_data, stdout_console
from ._tables import path_table

#: The demo's fixed recipe: one dataset, one held-out split, one seed.
DATASET = "breast_cancer"
HIDDEN = (64, 64)
SELECT = "1se"
HELD_OUT = 0.3  # share of rows held out before anything is fitted
#: ``epochs`` None: the library's rule (each strength trains until its cross-fit curves stall).
SETTINGS = {"l1_ratio": 0.5, "n_lambdas": 32, "cv": 5, "epochs": None, "batch_size": 32,
            "learning_rate": 1e-3, "seed": 0}
COLUMNS = {"plain": "no penalty (plain Keras)", "min": "lambda_min", "1se": "lambda_1se"}


def _scores(model, x, y) -> dict:
    """Data loss (binary cross-entropy, no penalty) and accuracy of ``model`` on ``(x, y)``."""
    import numpy as np

    p = np.clip(model.predict(x, batch_size=4096, verbose=0)[:, 0].astype(float), 1e-7, 1 - 1e-7)
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))
    return {"data_loss": float(loss), "accuracy": float(np.mean((p > 0.5) == y)), "n_rows": int(len(y))}


def _plain_model(x, y, epochs: int, held_out):
    """The unregularized network: same architecture and seed, plain Keras, ``epochs`` epochs.

    ``held_out`` rows are only watched (their loss per epoch, for the learning curves): the
    number of epochs is fixed beforehand, so they choose nothing.
    """
    import keras
    import numpy as np
    import pandas as pd

    from ..models import compile_for, mlp

    keras.utils.set_random_seed(SETTINGS["seed"])
    model = mlp(x.shape[1], 1, HIDDEN, "binary", penalty=None, seed=SETTINGS["seed"])
    compile_for(model, "binary", learning_rate=SETTINGS["learning_rate"])
    fitted = model.fit(x, y, epochs=epochs, batch_size=SETTINGS["batch_size"], shuffle=True, verbose=0,
                       validation_data=held_out)
    curves = pd.DataFrame({"epoch": np.arange(1, epochs + 1), "data_loss": fitted.history["loss"],
                           "val_data_loss": fitted.history["val_loss"]})
    return model, curves


def _entry(model, x_train, y_train, x_held, y_held, lam=0.0, cv=None) -> dict:
    from ..monitor import kernel_sparsity, near_zero_fraction
    from ..penalty import lambda_to_l1_l2

    l1, l2 = lambda_to_l1_l2(lam, SETTINGS["l1_ratio"])
    train, held = _scores(model, x_train, y_train), _scores(model, x_held, y_held)
    return {"lambda": lam, "l1": l1, "l2": l2, "cv": cv, "train": train, "held_out": held,
            "gap": held["data_loss"] - train["data_loss"], "sparsity": kernel_sparsity(model),
            "near_zero": near_zero_fraction(model, NEAR_ZERO)}


def _table(runs, n_features, epochs, n_train):
    from rich.table import Table

    layers = "-".join(map(str, (n_features, *HIDDEN, 1)))
    table = Table(title=f"kerasnet demo: {DATASET}, MLP {layers}, seed {SETTINGS['seed']}, "
                        f"{epochs} epochs, {HELD_OUT:.0%} of rows held out")
    table.add_column("")
    for key, name in COLUMNS.items():
        table.add_column(name + (" (selected)" if key == SELECT else ""), justify="right")

    def cv(m):
        return "not cross-validated" if m["cv"] is None else f"{m['cv'][0]:.4g} +- {m['cv'][1]:.2g}"

    rows = [
        ("lambda", lambda m: f"{m['lambda']:.4g}"),
        ("l1, l2", lambda m: f"{m['l1']:.3g}, {m['l2']:.3g}"),
        (f"CV deviance +- se ({SETTINGS['cv']} folds of the {n_train} training rows)", cv),
        ("train data loss", lambda m: f"{m['train']['data_loss']:.4g}"),
        ("held-out data loss", lambda m: f"{m['held_out']['data_loss']:.4g}"),
        ("gap (held-out - train)", lambda m: f"{m['gap']:.3g}"),
        ("train accuracy", lambda m: f"{m['train']['accuracy']:.3g}"),
        ("held-out accuracy", lambda m: f"{m['held_out']['accuracy']:.3g}"),
        ("sparsity (exact zeros)", lambda m: f"{m['sparsity']:.1%}"),
        (f"weights with |w| < {NEAR_ZERO:g}", lambda m: f"{m['near_zero']:.1%}"),
    ]
    for label, cell in rows:
        table.add_row(label, *(cell(runs[key]) for key in COLUMNS), style="bold" if "gap" in label else None)
    return table


@click.command("demo")
@click.option("--out", type=click.Path(), help="Also save the selected model, path.csv, metrics.json and "
                                                "report.html to this folder.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
def command(out, overwrite):
    """Choose the penalty of an MLP on breast cancer by 5-fold CV and compare it with no penalty.

    A stratified 30% of the rows is held out first (preprocessing is fitted on the other
    rows). On the training rows, the elastic-net path (32 strengths x 5 folds, one
    stacked fit) picks lambda_1se; the same network trained with plain Keras and no
    penalty, same seed and epochs, is the baseline. The table compares them on the
    training and held-out rows.
    """
    import pandas as pd

    from ..data import Preprocessor, split_rows
    from ..path import fit_path
    from ..runs.records import data_record, path_metrics
    from ..runs.save import save_path_run
    from ._common import report_warning

    if out is not None:
        check_out_dir(out, overwrite)
    console = stdout_console()
    features, y, source = load_data(None, None, DATASET)
    train_idx, held_idx = split_rows(len(y), HELD_OUT, y=y, task="binary", seed=SETTINGS["seed"])
    pre = Preprocessor(task="binary").fit(features.iloc[train_idx], y.iloc[train_idx])
    x_train, y_train = pre.transform(features.iloc[train_idx]), pre.encode_target(y.iloc[train_idx])
    x_held, y_held = pre.transform(features.iloc[held_idx]), pre.encode_target(y.iloc[held_idx])

    s = SETTINGS
    console.print(f"regularization path: {s['n_lambdas']} strengths x {s['cv']} folds on {len(train_idx)} "
                  f"training rows, one stacked fit ...")
    path = fit_path(x_train, y_train, hidden=HIDDEN, task="binary", l1_ratio=s["l1_ratio"],
                    n_lambdas=s["n_lambdas"], cv=s["cv"], epochs=s["epochs"], batch_size=s["batch_size"],
                    learning_rate=s["learning_rate"], seed=s["seed"], verbose=1)
    chosen = path.index(SELECT)
    epochs = int(path.refit_epochs_[chosen])
    console.print(f"no penalty: the same network in plain Keras, {epochs} epochs (the selected refit's) ...")
    plain, plain_curves = _plain_model(x_train, y_train, epochs, (x_held, y_held))

    data = (x_train, y_train, x_held, y_held)
    runs = {"plain": _entry(plain, *data)}
    models = {}
    for rule in ("min", "1se"):
        i = path.index(rule)
        models[rule] = path.model(rule)
        runs[rule] = _entry(models[rule], *data, lam=float(path.lambdas_[i]),
                            cv=(float(path.cv_mean_[i]), float(path.cv_se_[i])))

    console.print(path_table(path, SELECT, title=f"regularization path ({s['cv']}-fold CV, training rows)",
                             around=3))
    console.print(_table(runs, pre.n_features_out, epochs, len(train_idx)))
    before, after = runs["plain"], runs[SELECT]
    verdict = "narrows" if after["gap"] < before["gap"] else "does NOT narrow"
    console.print(
        f"lambda_{SELECT} = {after['lambda']:.4g} {verdict} the train/held-out gap: {before['gap']:.4f} -> "
        f"{after['gap']:.4f} (held-out data loss {before['held_out']['data_loss']:.4f} -> "
        f"{after['held_out']['data_loss']:.4f}, accuracy {before['held_out']['accuracy']:.3f} -> "
        f"{after['held_out']['accuracy']:.3f})."
    )
    if path.baselines_ is not None:  # against the null and the linear model, on the same folds
        console.print(path.baseline_text(), markup=False, soft_wrap=True)
    if out is not None:
        selected = runs[SELECT]
        # Each model's data loss per epoch: the plain network's on the held-out rows (watched
        # only), the penalized ones' on the CV folds the path held out (the mean over folds).
        watched = {"plain": "held-out rows", "min": "CV held-out folds", "1se": "CV held-out folds"}
        curves = pd.concat([(plain_curves if key == "plain" else path.curves(key)[
            ["epoch", "data_loss", "val_data_loss"]]).assign(model=key, validation=watched[key])
            for key in COLUMNS], ignore_index=True)
        settings = {"data": source, "held_out": HELD_OUT, "select": SELECT, "hidden": list(HIDDEN), **s}
        # The selected model on its training rows and on rows held out before anything was fit.
        metrics = path_metrics("demo", path, pre, SELECT, settings,
                               data_record(y, train_idx, held_idx, pre, held="held_out"), s["seed"],
                               train={**selected["train"], "sparsity": selected["sparsity"]},
                               held_out={**selected["held_out"], "sparsity": selected["sparsity"]},
                               comparison=runs)
        written, report_error = save_path_run(
            out, overwrite, models[SELECT], pre, path, metrics, command="demo",
            tables={"curves.csv": path.curves(SELECT), "comparison_curves.csv": curves})
        report_warning(report_error, out)
        console.print(f"saved {', '.join(written)} to {out} (model.keras: lambda_{SELECT})")
