"""Writing a finished run folder: each command's files, atomically, then its report.

Every folder is written through :func:`kerasnet.runs.folder.atomic_dir` (all or nothing,
never over a user's file) and its ``metrics.json`` through
:func:`kerasnet.runs.metrics.write_metrics` (the versioned schema). Each ``save_*`` returns
the names of the files written and the reason the report could not be built (None when it
was): a report that fails never loses the run.
"""

from __future__ import annotations

import os

from .folder import atomic_dir
from .metrics import write_metrics
from .records import feature_path_frame, probabilities_frame

__all__ = ["save_compare_run", "save_fit_run", "save_path_run", "save_search_run", "save_select_run",
           "write_report"]


def write_report(folder) -> str | None:
    """Build ``folder/report.html`` in a run folder being written (no marker yet: the run's marker,
    written last, records the report too); None, or why it could not be built (the run stays saved)."""
    from .report import render_report, write_report_files

    try:
        write_report_files(folder, render_report(folder))
    except Exception as err:  # noqa: BLE001 - the trained model matters more than its report
        return f"{type(err).__name__}: {err}"
    return None


def _finish(folder, written):
    error = write_report(folder)
    return (written + ["report.html"] if error is None else written), error


def _fit_files(run, folder) -> list[str]:
    """model.keras (plain Keras), preprocessing.json, history.csv, metrics.json, learning_curves.png.

    With a pruned model (``train(prune=True)``) also model_pruned.keras, saved as it is: it
    loads in safe mode after ``import kerasnet`` (its first layer selects the kept features).
    """
    from ..models import to_plain_keras
    from ..plots import learning_curves

    # Plain keras.regularizers.L1L2 in the file: it loads without kerasnet, in safe mode.
    to_plain_keras(run.model).save(os.path.join(folder, "model.keras"))
    run.preprocessor.save(os.path.join(folder, "preprocessing.json"))
    run.history.to_csv(os.path.join(folder, "history.csv"), index=False)
    write_metrics(folder, run.metrics)
    learning_curves(run.history).savefig(os.path.join(folder, "learning_curves.png"), dpi=100)
    written = ["model.keras", "preprocessing.json", "history.csv", "metrics.json", "learning_curves.png"]
    if run.pruned is not None:
        run.pruned.save(os.path.join(folder, "model_pruned.keras"))
        written.insert(1, "model_pruned.keras")
    return written


def save_fit_run(run, out, overwrite=False, inputs=()):
    """Write a ``kerasnet fit`` run (:class:`kerasnet.runs.Run`) to ``out``; ``(files, report error)``."""
    with atomic_dir(out, overwrite, inputs=inputs, command="fit") as folder:
        return _finish(folder, _fit_files(run, folder))


def save_path_run(out, overwrite, model, pre, path, metrics, inputs=(), tables=None, command="path"):
    """Write a path run: the selected model, preprocessing, path.csv, metrics, figures, report.

    ``tables`` maps more CSV files to their DataFrames (``curves.csv``: the selected
    strength's losses per epoch, :meth:`kerasnet.Path.curves`; the demo's
    ``comparison_curves.csv``); the report draws them. ``command`` is ``"path"`` or ``"demo"``.
    """
    with atomic_dir(out, overwrite, inputs=inputs, command=command) as folder:
        model.save(os.path.join(folder, "model.keras"))
        pre.save(os.path.join(folder, "preprocessing.json"))
        path.to_frame().to_csv(os.path.join(folder, "path.csv"), index=False)
        written = ["model.keras", "preprocessing.json", "path.csv"]
        if path.feature_selection and path.feature_path_ is not None:  # the report redraws its panel
            feature_path_frame(path).to_csv(os.path.join(folder, "feature_path.csv"), index=False)
            written.append("feature_path.csv")
        for name, frame in (tables or {}).items():
            frame.to_csv(os.path.join(folder, name), index=False)
            written.append(name)
        write_metrics(folder, metrics)
        _path_png(path, os.path.join(folder, "path.png"))
        return _finish(folder, written + ["metrics.json", "path.png"])


def _path_png(path, filename):
    """``path.plot`` on a detached Figure of the display's own size: no pyplot in a command."""
    from matplotlib.figure import Figure

    fig = Figure(layout="constrained")
    fig.set_size_inches(path.plot(ax=fig).figsize)
    fig.savefig(filename, dpi=100)


def save_search_run(out, overwrite, model, pre, result, metrics, inputs=()):
    """Write a ``kerasnet search`` run: the chosen model, preprocessing, search.csv (every point),
    metrics, search.png (every point's CV mean and SE), report."""
    from .search_sections import search_figure

    with atomic_dir(out, overwrite, inputs=inputs, command="search") as folder:
        model.save(os.path.join(folder, "model.keras"))
        pre.save(os.path.join(folder, "preprocessing.json"))
        frame = result.to_frame()
        frame.to_csv(os.path.join(folder, "search.csv"), index=False)
        write_metrics(folder, metrics)
        search_figure(frame, result.measure).savefig(os.path.join(folder, "search.png"), dpi=100)
        written = ["model.keras", "preprocessing.json", "search.csv", "metrics.json", "search.png"]
        return _finish(folder, written)


def save_select_run(out, overwrite, stable, metrics, inputs=()):
    """Write a ``kerasnet select`` run: stability.csv, probabilities.csv, metrics, figure, report."""
    with atomic_dir(out, overwrite, inputs=inputs, command="select") as folder:
        stable.to_frame().to_csv(os.path.join(folder, "stability.csv"), index=False)
        probabilities_frame(stable).to_csv(os.path.join(folder, "probabilities.csv"), index=False)
        write_metrics(folder, metrics)
        stable.plot().savefig(os.path.join(folder, "stability.png"), dpi=100)
        return _finish(folder, ["stability.csv", "probabilities.csv", "metrics.json", "stability.png"])


def save_compare_run(out, overwrite, runs, folders, summary, inputs=()):
    """Write a ``kerasnet compare`` run: one fit folder per variant (``folders[name]``), the summary."""
    with atomic_dir(out, overwrite, inputs=inputs, command="compare") as folder:
        for name, run in runs.items():
            os.mkdir(os.path.join(folder, folders[name]))
            _fit_files(run, os.path.join(folder, folders[name]))
        write_metrics(folder, summary)
        return _finish(folder, [*folders.values(), "metrics.json"])
