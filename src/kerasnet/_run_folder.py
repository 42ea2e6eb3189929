"""What a run folder holds, read for the report: its JSON and CSV files, its model's kernels, its kind.

:func:`environment` records, when a command runs, the versions and settings needed to
reproduce it (kept in ``metrics.json``); :func:`read_json`, :func:`read_csv`,
:func:`load_kernels` and :func:`run_kind` read back what ``kerasnet fit``, ``path`` or
``compare`` (or ``select``) wrote into the folder, returning None where a file is absent.
"""

from __future__ import annotations

import datetime
import json
import os

import numpy as np

__all__ = ["REPORT", "environment", "load_kernels", "read_csv", "read_json", "run_kind"]

#: File name of the report inside the run folder.
REPORT = "report.html"

_OTHER_PACKAGES = ("jax", "jaxlib", "torch", "scikit-learn", "pandas", "matplotlib")

# --------------------------------------------------------------------------- recording


def environment(seed=None) -> dict:
    """Versions and settings needed to reproduce a run (for metrics.json).

    Returns kerasnet's, Keras's and the backend's names and versions, Python and NumPy, the
    versions of other relevant packages when installed (``None`` when not), the platform
    and ``seed``. Packages are looked up by metadata, not imported (kerasnet too: its
    version is ``"unknown"`` when it is not installed).
    """
    import importlib.metadata as metadata
    import platform

    import keras

    try:
        version = metadata.version("kerasnet")
    except metadata.PackageNotFoundError:
        version = "unknown"
    others = {}
    for name in _OTHER_PACKAGES:
        try:
            others[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            others[name] = None
    return {
        "kerasnet": version,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "packages": others,
        "platform": platform.platform(),
        "seed": seed,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


# --------------------------------------------------------------------------- reading the folder


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
        from . import penalty, proximal, prune  # noqa: F401
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


def run_kind(folder, metrics):
    """The command that wrote the folder: ``"fit"``, ``"path"``, ``"select"`` or ``"compare"``."""
    if metrics.get("kind"):
        return metrics["kind"]
    if "variants" in metrics:
        return "compare"
    return "path" if os.path.isfile(os.path.join(folder, "path.csv")) else "fit"
