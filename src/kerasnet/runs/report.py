"""An HTML report of a run folder: one self-contained file, figures embedded, every value escaped.

:func:`build_report` reads what ``kerasnet fit``, ``path``, ``select`` or ``compare`` wrote into a
folder (``metrics.json``, ``history.csv``, ``path.csv``, ``feature_path.csv``, ``model.keras``,
``preprocessing.json``, ``stability.csv`` and ``probabilities.csv`` for ``select``, and one
sub-folder per variant for ``compare``) and writes ``report.html`` beside them. The
report has no external links, stylesheets or scripts, so it opens offline and can be mailed;
its figures are PNG ``data:`` URIs and are also written to the folder as PNG files. A section
appears only when the folder holds what it needs.

It reads ``metrics.json`` through :func:`kerasnet.runs.metrics.read_metrics` (the schema
is documented there; older files are upgraded on reading). It writes only into a verified
run folder: its :data:`~kerasnet.runs.folder.RUN_MARKER` must record the sha256 of every
file kerasnet wrote there, each unchanged, and a report replaces only its own earlier files
(recorded when written), never a file of the same name that kerasnet did not write.
"""

from __future__ import annotations

import os

from .. import interrupts
from .atomic import write_bytes, write_file_atomic
from .compare_sections import compare_section
from .html import Figures, page
from .marker import check_replaceable, check_run_folder, record_files
from .metrics import FILE, read_metrics
from .ratio_sections import ratios_section
from .reading import REPORT, data_source, load_kernels
from .search_sections import search_section, search_story
from .sections import (
    curves_section,
    data_section,
    divergence_section,
    environment_section,
    features_section,
    files_section,
    network_section,
    path_section,
    prune_section,
    scores_section,
    weights_section,
)
from .selection_sections import stability_section
from .story import comparison_section, conclusion_section
from .verdicts import verdict_section

__all__ = ["READS", "REPORT", "build_report"]

#: The files the report reads (in the folder or a compare variant's sub-folder); only the
#: run's own, recorded ones are read.
READS = ("metrics.json", "history.csv", "curves.csv", "comparison_curves.csv", "path.csv", "feature_path.csv",
         "stability.csv", "probabilities.csv", "model.keras", "preprocessing.json", "ratios.csv",
         "ratio_paths.csv", "search.csv")


def build_report(run_dir) -> str:
    """Write ``run_dir/report.html`` from what a kerasnet command saved there; return its path.

    Parameters
    ----------
    run_dir : str or path-like
        A folder written by ``kerasnet fit``, ``path``, ``select`` or ``compare``: it holds
        ``metrics.json`` and the run marker, whose checksums match the files.

    Returns
    -------
    str
        Path of the report. Its figures are also written to ``run_dir`` as PNG files
        (``learning_curves.png``, ``weight_histograms.png``, ``path.png``, ``stability.png``,
        ``compare.png`` ...) and recorded in the run marker with the report.

    Raises
    ------
    ValueError
        ``run_dir`` is not a folder kerasnet wrote (no valid marker, files changed since,
        a metrics.json outside the schema), or a file the report would write exists and was
        not written by kerasnet. Nothing is written then.

    Examples
    --------
    >>> build_report("runs/fit-1")  # doctest: +SKIP
    'runs/fit-1/report.html'
    """
    folder = os.fspath(run_dir)
    if not os.path.isdir(folder):
        raise ValueError(f"{folder!r} is not a folder; give a folder written by kerasnet fit, path, demo, "
                         "select, compare or search.")
    if not os.path.isfile(os.path.join(folder, FILE)):
        read_metrics(folder)  # raises its own "holds no metrics.json"
    recorded = check_run_folder(folder, reads=READS)
    files = render_report(folder)
    check_replaceable(folder, files, recorded)
    interrupts.check()  # a Ctrl-C while rendering: nothing written yet
    write_report_files(folder, files)
    record_files(folder, files)
    return os.path.join(folder, REPORT)


def write_report_files(folder, files) -> None:
    """Write ``files`` ({name: bytes}, from :func:`render_report`) into ``folder``, each atomically."""
    for name, data in files.items():
        write_file_atomic(os.path.join(folder, name), lambda tmp, data=data: write_bytes(tmp, data),
                          check=False)


def render_report(run_dir) -> dict:
    """``{name: bytes}``: report.html and its figures for the run folder ``run_dir``, not yet written."""
    folder = os.fspath(run_dir)
    metrics = read_metrics(folder)
    import matplotlib

    with matplotlib.rc_context({"figure.max_open_warning": 0}):
        figure = Figures(folder)
        kind = metrics["kind"]
        # Every report opens with what to conclude: a path's and a demo's, or a compare's or a select's.
        conclusion = conclusion_section(metrics) or verdict_section(metrics)
        if kind == "search":
            conclusion = "What to conclude", "<p>" + " ".join(search_story(metrics)) + "</p>"
        sections = [divergence_section(metrics), conclusion, data_section(metrics)]
        if kind == "compare":
            sections.append(compare_section(folder, metrics, figure))
            first = next(iter(metrics["variants"].values()), {})
            sub = os.path.join(folder, first.get("folder", ""))
            sub_metrics = read_metrics(sub) if os.path.isfile(os.path.join(sub, FILE)) else {}
            sections.append(network_section({**sub_metrics, **metrics}, None))
        elif kind == "select":  # no model: the probabilities and the bound are the result
            sections.append(stability_section(folder, metrics, figure))
        elif kind == "search":
            kernels, error = load_kernels(folder)
            sections += [search_section(folder, metrics, figure), network_section(metrics, kernels),
                         weights_section(kernels, error, figure)]
        else:
            kernels, error = load_kernels(folder)
            sections += [
                network_section(metrics, kernels),
                scores_section(metrics),
                comparison_section(folder, metrics, figure),
                ratios_section(folder, metrics, figure),
                path_section(folder, metrics, figure),
                curves_section(folder, figure, metrics),
                weights_section(kernels, error, figure),
                features_section(folder, metrics, kernels),
                prune_section(metrics),
            ]
        sections.append(environment_section(metrics))
        sections.append(files_section(folder, {name: len(data) for name, data in figure.files.items()}))
    sections = [s for s in sections if s is not None]
    data = metrics.get("data") or {}
    target = data.get("target") or metrics.get("target")
    title = f"kerasnet {kind}: {target}" if target else f"kerasnet {kind}"
    source = data_source(metrics)
    created = (metrics.get("environment") or {}).get("created")
    subtitle = " · ".join(str(p) for p in (source, data.get("task") or metrics.get("task"), created) if p)
    return {REPORT: page(title, subtitle, sections).encode("utf-8"), **figure.files}
