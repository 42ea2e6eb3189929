"""HTML pieces of the report: escaping, tables, embedded figures, the page (no external resources)."""

from __future__ import annotations

import base64
import html
import io

import numpy as np

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1100px;
padding:0 1.5em 3em;color:#1d2330;line-height:1.45}
h1{font-size:1.6em;margin:1em 0 .2em}h2{border-bottom:2px solid #dde3ee;padding-bottom:.2em;margin-top:1.8em}
nav a{margin-right:1em}table{border-collapse:collapse;margin:.6em 0}
th,td{border:1px solid #d0d6e2;padding:.25em .6em;text-align:right;vertical-align:top}
th{background:#f1f4f9}td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #eef}
figcaption{color:#555;font-size:.9em}.muted{color:#666}.mono{font-family:ui-monospace,monospace;
word-break:break-all}.chosen{background:#fff7d6}.kv td{text-align:left}.wide{overflow-x:auto}
"""


def escape(value) -> str:
    """Escaped text of any value: a column name may well be ``<script>``."""
    return html.escape("" if value is None else str(value), quote=True)


def number(value, fmt=".4g") -> str:
    """A number formatted with ``fmt`` (anything else escaped as text); None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return escape(value)
    return escape(format(value, fmt))


def table(header, rows, classes=None) -> str:
    """An HTML table; every header and cell is escaped."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{escape(classes[i])}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    return (f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
            "</table></div>")


def pairs(items) -> str:
    """A two-column table of (label, value) pairs, skipping empty values."""
    shown = [(k, v) for k, v in items if v is not None and v != ""]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in shown)
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


class Figures:
    """Renders each figure as PNG bytes for the page and keeps them (``files``: name -> bytes).

    Nothing is written here: the report is checked against the run folder's record first,
    then its files are written together (:func:`kerasnet.runs.report.build_report`).
    """

    def __init__(self, folder):
        self.folder, self.files = folder, {}

    @property
    def written(self) -> list[str]:
        """The names of the figures rendered so far."""
        return list(self.files)

    def __call__(self, fig, name, caption) -> str:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        data = buffer.getvalue()
        self.files[name] = data
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        return (f'<figure><img src="{uri}" alt="{escape(caption)}">'
                f"<figcaption>{escape(caption)} ({escape(name)})</figcaption></figure>")


def page(title, subtitle, sections) -> str:
    """The whole document: ``sections`` are ``(title, html)`` pairs; styles inline, no scripts."""
    nav = " ".join(f'<a href="#s{i}">{escape(t)}</a>' for i, (t, _) in enumerate(sections))
    body = "".join(f'<section id="s{i}"><h2>{escape(t)}</h2>{h}</section>'
                   for i, (t, h) in enumerate(sections))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><p class=muted>{escape(subtitle)}</p><nav>{nav}</nav>{body}"
        "<p class=muted>Written by kerasnet; this file is self-contained and opens offline.</p>"
        "</body></html>\n"
    )
