"""``kerasnet predict``: raw rows in, predictions out, row order and extra columns kept."""

from __future__ import annotations

import os
import sys
import zipfile
from typing import TYPE_CHECKING

import click

from ..errors import InputError
from ..runs.folder import check_out_file, write_predictions_file

if TYPE_CHECKING:
    from ..preprocessing import Preprocessor


def load_run(folder, pruned=False):
    """The model (safe mode) and preprocessing that ``kerasnet fit`` saved in ``folder``.

    ``pruned`` loads model_pruned.keras (written by ``kerasnet fit --prune``) instead of
    model.keras; it takes the same inputs and gives the same predictions.
    """
    pre_path = os.path.join(folder, "preprocessing.json")
    model_path = os.path.join(folder, "model.keras")
    if pruned and os.path.isfile(pre_path) and os.path.isfile(model_path):
        model_path = os.path.join(folder, "model_pruned.keras")
        if not os.path.isfile(model_path):
            raise InputError(
                f"'{folder}' has no model_pruned.keras; refit with kerasnet fit --prune, or predict "
                "without --pruned."
            )
    for path in (model_path, pre_path):
        if not os.path.isfile(path):
            raise InputError(
                f"'{folder}' is not a kerasnet fit folder ({os.path.basename(path)} is missing); "
                "give the --out folder of kerasnet fit."
            )
    # After the checks above, which need none of them: a wrong folder is answered at once.
    import keras

    # Registers kerasnet's penalties, proximal step and feature selector for safe-mode loading
    # (model.keras of a --group-lasso fit and every model_pruned.keras use them).
    from .. import penalty, proximal, prune  # noqa: F401
    from ..data import Preprocessor

    pre = Preprocessor.load(pre_path)
    if not zipfile.is_zipfile(model_path):
        raise InputError(
            f"'{model_path}' is damaged (not a complete .keras zip archive, e.g. a truncated copy); "
            "copy it again or refit the model."
        )
    try:
        model = keras.saving.load_model(model_path, compile=False, safe_mode=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise InputError(
            f"cannot load '{model_path}' ({_first_line(err)}); copy it again or refit the model."
        ) from None
    check_model(model, pre, model_path)
    return model, pre


def check_model(model, pre: Preprocessor, model_path) -> None:
    """Refuse a model that does not belong with ``pre``: its input width must be the number of encoded
    features, its output width and last activation those of the task (and classes).

    A model.keras copied from another run would otherwise predict garbage silently (a linear
    output read as "probabilities", or the wrong columns fed in).
    """
    from ..tasks import OUTPUT_ACTIVATION

    def refuse(what):
        raise InputError(f"'{model_path}' does not belong with its preprocessing.json: {what}; copy "
                         "model.keras and preprocessing.json from the same run folder.")

    if pre.task_ in ("binary", "multiclass") and not pre.classes_:
        refuse(f"the preprocessing is for task '{pre.task_}' but lists no classes")
    n_in = _width(getattr(model, "inputs", None))
    if n_in is not None and n_in != pre.n_features_out:
        refuse(f"the model takes {n_in} inputs, the preprocessing encodes {pre.n_features_out} features")
    n_out, expected = _width(getattr(model, "outputs", None)), pre.n_outputs
    if n_out is not None and n_out != expected:
        classes = f" ({len(pre.classes_)} classes)" if pre.classes_ else ""
        refuse(f"the model has {n_out} outputs, task '{pre.task_}'{classes} needs {expected}")
    activation = _last_activation(model)
    if activation is not None and activation != OUTPUT_ACTIVATION[pre.task_]:
        refuse(f"the model's output activation is '{activation}', task '{pre.task_}' needs "
               f"'{OUTPUT_ACTIVATION[pre.task_]}'")


def _width(tensors):
    """The last dimension of a model's single input or output, or None when it is not known."""
    try:
        (tensor,) = tensors
        width = tensor.shape[-1]
    except (TypeError, ValueError, AttributeError, IndexError):
        return None
    return int(width) if width is not None else None


def _last_activation(model):
    """The name of the last layer's activation (``"sigmoid"``), or None when it has none."""
    layers = getattr(model, "layers", None) or []
    config = layers[-1].get_config() if layers else {}
    activation = config.get("activation")
    return activation if isinstance(activation, str) else None


def _first_line(err) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


def run_files(folder) -> list[str]:
    """The files of a fit folder that ``predict`` reads (never to be overwritten by it)."""
    names = ("model.keras", "model_pruned.keras", "preprocessing.json")
    return [os.path.join(folder, name) for name in names]


def recorded_offset(folder, pre=None):
    """The offset column a Poisson run was fit with (``kerasnet path --offset-column``), or None.

    preprocessing.json records it (so a model copied with its preprocessing predicts counts);
    a file written before it did falls back on the run's metrics.json.
    """
    from ..runs import read_metrics

    if pre is not None and pre.offset_recorded_:
        return pre.offset_column_
    try:
        return (read_metrics(folder).get("settings") or {}).get("offset_column")
    except (OSError, ValueError):
        return None


def predict_table(model, pre: Preprocessor, frame, offset_column=None):
    """Predictions for the rows of ``frame``, with its non-feature columns (ids) in front.

    A Poisson model predicts the rate; with ``offset_column`` (each row's log exposure, a
    column of ``frame``) the expected counts ``rate * exp(offset)``.
    """
    x = pre.transform(frame)
    outputs = model.predict(x, batch_size=4096, verbose=0)
    if offset_column is not None:
        import numpy as np
        import pandas as pd

        if offset_column not in frame.columns:
            raise InputError(f"the model was fit with offset column '{offset_column}' (log exposure), which "
                             "the data does not have; add it to the rows to predict counts.")
        offset = pd.to_numeric(frame[offset_column], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(offset)):
            raise InputError(f"offset column '{offset_column}' needs a finite log exposure on every row.")
        outputs = outputs * np.exp(offset)[:, None]
    predictions = pre.decode_predictions(outputs)
    kept = frame[[c for c in frame.columns if str(c) not in set(pre.input_columns)]]
    clash = [c for c in predictions.columns if c in set(map(str, kept.columns))]
    if clash:
        raise InputError(
            f"data already has columns named like the predictions: {', '.join(clash)}; rename or drop them."
        )
    predictions.index = kept.index
    return kept.join(predictions)


@click.command("predict")
@click.argument("run_dir", metavar="DIR", type=click.Path())
@click.argument("data", metavar="DATA")
@click.option("--out", type=click.Path(), help="CSV file for the predictions (default: print to stdout).")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
@click.option(
    "--pruned",
    is_flag=True,
    help="Use model_pruned.keras (written by kerasnet fit --prune) instead of model.keras.",
)
def command(run_dir, data, out, overwrite, pruned):
    """Predict the rows of DATA (CSV / Parquet) with the model that kerasnet fit saved in DIR.

    Classification gives the predicted class and one probability column per class;
    regression the predicted value; a Poisson run the expected count (its offset column,
    the log exposure, read from DATA). Columns that are not features (ids) are kept, and
    rows stay in input order.
    """
    if out is not None:
        check_out_file(out, overwrite, inputs=[data, *run_files(run_dir)])
    from ..header import check_data_file

    check_data_file(os.fspath(data))  # before loading the model: a missing file is answered at once
    model, pre = load_run(run_dir, pruned=pruned)
    offset = recorded_offset(run_dir, pre) if pre.task_ == "poisson" else None
    from ..data import load_table

    table = predict_table(model, pre, load_table(data), offset_column=offset)
    if out is None:
        table.to_csv(sys.stdout, index=False)
    else:
        write_predictions_file(out, lambda path: table.to_csv(path, index=False))
        click.echo(f"wrote {len(table)} predictions to {out}", err=True)
