"""Run folders: the one package that writes and reads what a kerasnet command leaves on disk.

A run folder holds a model, its preprocessing, the tables and figures of its run,
``metrics.json`` (:mod:`.metrics`: one versioned schema, documented there) and
``report.html``. :mod:`.training` trains one network on a table (``kerasnet fit``,
``compare``), :mod:`.records` builds the parts of ``metrics.json``, :mod:`.save` writes each
command's folder atomically (:mod:`.folder`: never over a user's file), :mod:`.report`
builds the report from :mod:`.sections` (HTML pieces in :mod:`.html`), reading the folder
back through :mod:`.metrics` and :mod:`.reading`. The commands only parse, call and print.
"""

from .metrics import read_metrics, write_metrics
from .report import REPORT, build_report
from .training import Run, train

__all__ = ["REPORT", "Run", "build_report", "read_metrics", "train", "write_metrics"]
