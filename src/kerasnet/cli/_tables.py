"""Tables the commands print: the path (``path``, ``demo``), its selected features, a search's points."""

from __future__ import annotations

import math

__all__ = ["path_table", "ratios_table", "search_table", "selected_line"]


def path_table(path, select: str, title: str = "kerasnet path", around: int | None = None):
    """A rich table: strength, CV mean +- se, sparsity, features kept; selected rows marked.

    ``around=k`` shows only the rows within ``k`` strengths of lambda_min or lambda_1se
    (and says how many were left out); None shows the whole path.
    """
    from rich.table import Table

    frame = path.to_frame()
    score = f"cv_{path.measure}"
    # The deviance beside another measure: a finer view of the same fits.
    other = "cv_deviance" if path.measure != "deviance" else None
    chosen = path.index(select)
    if around is not None:
        ends = (min(path.index_1se_, path.index_min_), max(path.index_1se_, path.index_min_))
        keep = frame.index[(frame.index >= ends[0] - around) & (frame.index <= ends[1] + around)]
        hidden = len(frame) - len(keep)
        frame = frame.loc[keep]
        if hidden:
            title = f"{title} ({len(keep)} of {len(frame) + hidden} strengths shown)"
    table = Table(title=title)
    for name in ("", "lambda", f"CV {path.measure}", "+- se", *(["CV deviance"] if other else []),
                 "%Dev", "exact zeros", "features", "epochs", "rule"):
        table.add_column(name, justify="left" if name in ("", "rule") else "right")
    for i, row in frame.iterrows():
        mark = ">" if i == chosen else ""
        diverged = bool(row["diverged"])
        table.add_row(
            mark,
            f"{row['lambda']:.4g}",
            "diverged" if diverged else f"{row[score]:.4f}",
            "" if diverged else f"{row[score + '_se']:.4f}",
            *(["" if diverged else f"{row[other]:.4f}"] if other else []),
            "" if math.isnan(row["dev_ratio"]) else f"{100 * row['dev_ratio']:.1f}",
            f"{row['sparsity']:.1%}",
            str(int(row["n_features"])),
            str(int(row["refit_epochs"])),
            row["selected"],
            style="bold" if i == chosen else None,
        )
    return table


def selected_line(path, select: str) -> str:
    """The features the saved model keeps, by name, in one line."""
    _, names = path.selected_features(select)
    which = " (relaxed refit chosen by CV)" if path.relax_chosen_ else ""
    return (f"selected features ({len(names)} of {len(path.feature_names_)} at lambda_{select}{which}): "
            + (", ".join(names) if names else "none"))


def ratios_table(ratios, title: str = "kerasnet path over l1_ratio"):
    """A rich table of a :class:`kerasnet.RatioPaths`: each ``l1_ratio``'s lambda_min with its CV
    mean +- se and Df, and its lambda_1se; the chosen value marked."""
    from rich.table import Table

    table = Table(title=title)
    names = ("", "l1_ratio", "lambda_min", f"CV {ratios.measure}", "+- se", "Df", "lambda_1se", "Df at 1se")
    for name in names:
        table.add_column(name, justify="left" if not name else "right")
    for k, (ratio, path) in enumerate(zip(ratios.l1_ratios_, ratios.paths_, strict=True)):
        i, j = path.index_min_, path.index_1se_
        table.add_row(">" if k == ratios.index_ else "", f"{ratio:g}", f"{path.lambda_min_:.4g}",
                      f"{path.cv_mean_[i]:.4f}", f"{path.cv_se_[i]:.4f}", str(int(path.df_[i])),
                      f"{path.lambda_1se_:.4g}", str(int(path.df_[j])),
                      style="bold" if k == ratios.index_ else None)
    return table


def search_table(result, select: str, title: str = "kerasnet search", top: int = 10):
    """A rich table of a :class:`kerasnet.SearchResult`: the ``top`` points by CV mean (and the
    simplest within one SE), each with its settings, CV mean +- se and epochs; the saved one marked."""
    from rich.table import Table

    frame = result.summary(top)
    score = f"cv_{result.measure}"
    chosen = result.point_index(select) + 1
    table = Table(title=title)
    for name in ("", "point", "lambda", "l1_ratio", "learning rate", "dropout", "hidden",
                 f"CV {result.measure}", "+- se", "epochs", "rule"):
        table.add_column(name, justify="left" if name in ("", "hidden", "rule") else "right")
    for i, row in frame.iterrows():
        table.add_row(">" if i == chosen else "", str(i), f"{row['lambda']:.4g}", f"{row['l1_ratio']:g}",
                      f"{row['learning_rate']:g}", f"{row['dropout']:g}", row["hidden"],
                      "diverged" if math.isnan(row[score]) else f"{row[score]:.4f}",
                      "" if math.isnan(row[score + "_se"]) else f"{row[score + '_se']:.4f}",
                      str(int(row["epochs"])), row["selected"], style="bold" if i == chosen else None)
    return table
