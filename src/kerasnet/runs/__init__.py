"""Run folders: the one package that writes and reads what a kerasnet command leaves on disk.

A run folder holds a model, its preprocessing, the tables and figures of its run,
``metrics.json`` (:mod:`.metrics`: one versioned schema, documented there) and
``report.html``. :mod:`.training` trains one network on a table (``kerasnet fit``,
``compare``), :mod:`.records` builds the parts of ``metrics.json``, :mod:`.save` writes each
command's folder atomically (:mod:`.folder`: never over a user's file), :mod:`.report`
builds the report from :mod:`.sections` (HTML pieces in :mod:`.html`), reading the folder
back through :mod:`.metrics` and :mod:`.reading`. The commands only parse, call and print.
"""

import importlib as _importlib
from importlib.util import find_spec as _find_spec

#: Where each public name is defined; imported on first use, so that ``runs.folder`` (the
#: commands' output checks) comes without Keras and pandas.
_API = {"read_metrics": "metrics", "write_metrics": "metrics", "REPORT": "report", "build_report": "report",
        "Run": "training", "train": "training"}

__all__ = sorted(_API)


def __getattr__(name):
    if name in _API:
        value = getattr(_importlib.import_module(f"{__name__}.{_API[name]}"), name)
    elif not name.startswith("_") and _find_spec(f"{__name__}.{name}") is not None:
        value = _importlib.import_module(f"{__name__}.{name}")  # a submodule, as when all were imported
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value


def __dir__():
    return sorted({*globals(), *__all__})
