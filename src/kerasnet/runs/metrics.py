"""``metrics.json``: the one record of a run, its schema and its versions.

Only :func:`write_metrics` writes the file and only :func:`read_metrics` reads it. The file
is a JSON object stamped ``"format": "kerasnet.metrics"`` and ``"version": 2``; a file
without the stamp was written by kerasnet 0.1 (version 1) and is read by upgrading it to
version 2 (:func:`upgrade`), so every reader sees one spelling. Non-finite numbers (a
diverged run's losses) are written as ``null``.

Schema, version 2 (keys absent where they do not apply):

==================  =========================================================================
key                 meaning
==================  =========================================================================
format, version     ``"kerasnet.metrics"``, 2
kind                the command that wrote the folder: ``"fit"``, ``"path"``, ``"demo"``,
                    ``"select"``, ``"compare"`` or ``"search"``
task                ``"binary"``, ``"multiclass"``, ``"regression"``, ``"poisson"``, ``"cox"``
target, classes     the target column (Cox: the time column) and the class labels
n_features_in       input columns; ``n_features``: model inputs after one-hot encoding
settings            the command's settings (``data``: the source, ``seed``, ...)
data                :func:`kerasnet.runs.records.data_record`: rows per split
                    (``n_train``, ``n_validation``, ``n_test``), ``class_balance``,
                    ``target_summary`` or ``survival``, ``columns``, ``feature_names``
model               ``layers``, ``penalty``, ``input_penalty``, ``optimizer``, ``n_params``
train, validation,  scores of the saved model on those rows: ``n_rows``, ``loss``,
test, held_out      ``data_loss``, ``penalty``, the task's score (``accuracy``, ``rmse``,
                    ``cindex``), ``sparsity``. ``validation`` rows chose the epochs of
                    nothing (``fit`` monitors them); ``held_out`` rows (``demo``) were set
                    aside before anything was fitted
path                :func:`kerasnet.runs.records.path_record` (``path``, ``demo``)
comparison          ``demo``: the models compared on the held-out rows, by name (``plain``,
                    ``min``, ``1se``): ``lambda``, ``l1``, ``l2``, ``cv``, ``train``,
                    ``held_out``, ``gap``, ``sparsity``, ``near_zero``
stability           :func:`kerasnet.runs.records.stability_record` (``select``)
search              ``search``: ``best``, ``simplest`` and ``selected`` (settings, ``point``, ``cv``,
                    ``cv_se``, ``epochs``), ``n_points``, ``n_configurations``, ``optimism``,
                    ``nested`` (``mean``, ``se``, ``folds``, ``chosen``) and ``conclusion``
variants            ``compare``: each variant's folder, strengths and scores
test_differences    ``compare``: each variant's mean test data loss, its difference to the
                    lowest one's and that difference's paired standard error over the test
                    rows (:func:`kerasnet.runs.verdicts.paired_test_differences`)
features_kept,      what exact zeros removed (``fit --proximal / --group-lasso / --prune``)
prune
diverged            whether training stopped being finite
environment         :func:`kerasnet.runs.records.environment`
command             the command line (``line``) and its parameters (``params``)
==================  =========================================================================
"""

from __future__ import annotations

import json
import os

from .folder import write_json

__all__ = ["FORMAT", "KINDS", "VERSION", "read_metrics", "upgrade", "write_metrics"]

FORMAT = "kerasnet.metrics"
VERSION = 2
FILE = "metrics.json"
#: The commands that write a run folder, as ``kind`` names them.
KINDS = ("fit", "path", "demo", "select", "compare", "search")
#: Keys every kerasnet 0.1 metrics.json (no format stamp) had at least one of.
_VERSION_1_KEYS = ("kind", "task", "variants", "lambda_min")


def write_metrics(folder, metrics: dict) -> str:
    """Write ``metrics`` to ``folder/metrics.json``, stamped with the format and version; its path."""
    if "kind" not in metrics:
        raise ValueError("a run's metrics need a 'kind' (the command that wrote it).")
    path = os.path.join(os.fspath(folder), FILE)
    write_json(path, {"format": FORMAT, "version": VERSION, **metrics})
    return path


def read_metrics(folder) -> dict:
    """The metrics of the run folder ``folder``, upgraded to the current version.

    Raises
    ------
    ValueError
        There is no metrics.json, it is not valid JSON, or a newer kerasnet wrote it.
    """
    folder = os.fspath(folder)
    path = os.path.join(folder, FILE)
    if not os.path.isfile(path):
        raise ValueError(f"{folder!r} holds no {FILE}; give a folder written by kerasnet fit, path, demo, "
                         "select, compare or search.")
    try:
        with open(path, encoding="utf-8") as fh:
            metrics = json.load(fh)
    except ValueError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); rerun the command that wrote it.") from None
    if not isinstance(metrics, dict):
        raise ValueError(f"{path} is not a kerasnet metrics file (not a JSON object); rerun the command.")
    if metrics.get("format") != FORMAT and not any(key in metrics for key in _VERSION_1_KEYS):
        raise ValueError(f"{path} is not a kerasnet metrics file (no \"format\": \"{FORMAT}\" and none of "
                         "kerasnet's keys); give a folder written by kerasnet fit, path, demo, select, "
                         "compare or search.")
    metrics = upgrade(metrics, folder)
    kind = metrics.get("kind")
    if kind not in KINDS:
        said = "has no 'kind'" if kind is None else f"has kind {str(kind)[:40]!r}"
        raise ValueError(f"{path} {said}, not one of {', '.join(KINDS)} (the command that wrote it); rerun "
                         "that command.")
    if kind == "compare" and not isinstance(metrics.get("variants"), dict):
        raise ValueError(f"{path} of kind 'compare' has no 'variants' table; rerun kerasnet compare.")
    return metrics


def upgrade(metrics: dict, folder=None) -> dict:
    """``metrics`` in the current version's spelling (version 1 files are converted; see the module)."""
    version = metrics.get("version") if metrics.get("format") == FORMAT else 1
    if not isinstance(version, int) or version > VERSION:
        raise ValueError(f"metrics.json version {version!r} was written by a newer kerasnet (this one reads "
                         f"up to {VERSION}); upgrade kerasnet to read it.")
    if version == VERSION:
        return metrics
    old = dict(metrics)
    if "kind" not in old:  # kerasnet 0.1's fit wrote none
        has_path = folder is not None and os.path.isfile(os.path.join(folder, "path.csv"))
        old["kind"] = "compare" if "variants" in old else "path" if has_path else "fit"
    if "pruned" in old and "prune" not in old:
        old["prune"] = old.pop("pruned")
    if old["kind"] == "path" and "path" not in old and "lambda_min" in old:
        keys = ("lambda_min", "lambda_1se", "selected", "lambda_selected", "measure", "cv_mean", "cv_se")
        old["path"] = {k: old.pop(k) for k in keys if k in old}
    if old["kind"] == "path" and "comparison" in old:  # kerasnet 0.1's demo wrote kind "path"
        old["kind"] = "demo"
        if "validation" in old:
            old["held_out"] = old.pop("validation")
    data = dict(old.get("data") or {})
    for key, top in (("target", "target"), ("n_features", "n_features"), ("n_columns", "n_features_in")):
        data.setdefault(key, old.get(top))
    data.setdefault("task", old.get("task"))
    old["data"] = data
    old["format"], old["version"] = FORMAT, VERSION
    return old
