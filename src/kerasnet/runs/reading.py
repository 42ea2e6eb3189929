"""Reading a run folder's other files for the report: JSON, CSV, the saved model's kernels, the data's name.

Each returns None where the file is absent (``metrics.json`` itself is read by
:func:`kerasnet.runs.metrics.read_metrics`).
"""

from __future__ import annotations

import json
import os

import numpy as np

__all__ = ["REPORT", "data_source", "load_kernels", "read_csv", "read_json"]

#: File name of the report inside the run folder.
REPORT = "report.html"


def data_source(metrics) -> str:
    """The run's data as the report names it: the user's path, a bundled ``dataset:NAME``, or the file
    name alone of an absolute path (older runs recorded one)."""
    source = (metrics.get("settings") or {}).get("data") or (metrics.get("data") or {}).get("source") or ""
    source = str(source)
    return os.path.basename(source) if os.path.isabs(source) else source


def read_json(path):
    """The JSON file at ``path`` as Python objects, or None when there is no such file."""
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_csv(path):
    """The CSV file at ``path`` as a DataFrame, or None when there is no such file."""
    import pandas as pd

    return pd.read_csv(path) if os.path.isfile(path) else None


def load_kernels(folder, name="model.keras"):
    """``({layer: kernel}, error)`` of the Dense / EinsumDense / Conv layers in ``model.keras``."""
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        return None, None
    try:
        import keras

        # Registers kerasnet's serializable objects (penalties, SelectFeatures) for loading.
        from .. import penalty, proximal, prune  # noqa: F401
        model = keras.saving.load_model(path, compile=False)
    except Exception as err:  # noqa: BLE001 - a report states what it could not read
        return None, f"could not load {name}: {type(err).__name__}: {err}"
    kernels = {}

    def walk(layer, prefix=""):
        for sub in getattr(layer, "layers", []) or []:
            walk(sub, prefix + layer.name + "/" if layer is not model else "")
        kernel = getattr(layer, "kernel", None) if not hasattr(layer, "layers") else None
        if kernel is not None:
            kernels[prefix + layer.name] = np.asarray(keras.ops.convert_to_numpy(kernel))

    walk(model)
    return kernels, None
