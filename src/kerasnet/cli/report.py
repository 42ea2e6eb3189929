"""``kerasnet report DIR``: (re)build the self-contained report.html of a run folder."""

from __future__ import annotations

import click


@click.command("report")
@click.argument("run_dir", metavar="DIR")
def command(run_dir):
    """Write DIR/report.html from a folder written by fit, path, demo, select, compare or search.

    One self-contained HTML file (figures embedded, no external links): data, network and
    penalty, scores, the path with its CV choices, learning curves, weight histograms,
    features kept, pruned size, stability selection and the environment. Figures are also saved as PNG files.
    """
    from ..data import InputError
    from ..runs import build_report

    try:
        path = build_report(run_dir)
    except ValueError as err:
        raise InputError(str(err)) from None
    click.echo(f"wrote {path}")
