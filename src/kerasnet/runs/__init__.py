"""Run folders: the one package that writes and reads what a kerasnet command leaves on disk.

A run folder holds a model, its preprocessing, the tables and figures of its run,
``metrics.json`` (:mod:`.metrics`: one versioned schema, documented there) and
``report.html``. :mod:`.training` trains one network on a table (``kerasnet fit``,
``compare``), :mod:`.records` builds the parts of ``metrics.json``, :mod:`.save` writes each
command's folder atomically (:mod:`.folder`: never over a user's file), :mod:`.report`
builds the report from :mod:`.sections` (HTML pieces in :mod:`.html`), reading the folder
back through :mod:`.metrics` and :mod:`.reading`. The commands only parse, call and print.
"""

from .._lazy import lookup as _lookup

#: Where each public name is defined; imported on first use, so that ``runs.folder`` (the
#: commands' output checks) comes without Keras and pandas.
_API = {"read_metrics": "metrics", "write_metrics": "metrics", "REPORT": "report", "build_report": "report",
        "Run": "training", "train": "training"}

__all__ = sorted(_API)


def __getattr__(name):
    return _lookup(__name__, _API, globals(), name)


def __dir__():
    return sorted({*globals(), *__all__})
