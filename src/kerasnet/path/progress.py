"""The progress bar of ``fit_path``: epochs of the CV fit, then of the refit."""

from __future__ import annotations

import warnings

import numpy as np

from .. import interrupts

__all__ = ["Progress"]


class Progress:
    """One rich progress bar over epochs, showing the best mean CV validation loss so far.

    The loss is each strength's mean over folds of the members' current validation data
    loss (in the units the members train in): a read-out, not the selection measure.
    """

    def __init__(self, verbose):
        self.bar, self.best = None, ""
        if verbose:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), transient=False)
            self.task = self.bar.add_task("fit_path", total=1)
            self.bar.start()

    def phase(self, label, epochs, shape):
        """Restart the same bar for the next fit (``shape``: strengths x members each)."""
        self.label, self.shape = label, shape
        if self.bar is not None:
            self.bar.reset(self.task, total=epochs, description=f"{label}{self.best}")

    def __call__(self, epoch, logs):
        # Between epochs is where a Ctrl-C or SIGTERM that the command line deferred takes effect.
        interrupts.check()
        if self.bar is None:
            return
        if logs.get("val_loss") is not None and self.shape[1] > 1:
            with warnings.catch_warnings():  # strengths without validation rows: all NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                per_lambda = np.nanmean(np.asarray(logs["val_loss"]).reshape(self.shape), axis=1)
            if np.isfinite(per_lambda).any():
                self.best = f" best CV loss {np.nanmin(per_lambda):.4f}"
        self.bar.update(self.task, completed=epoch + 1, description=f"{self.label}{self.best}")

    def close(self):
        if self.bar is not None:
            self.bar.stop()
