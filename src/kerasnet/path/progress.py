"""The progress of ``fit_path`` and ``stability_selection``: the epochs of each phase (CV, Refit, ...).

On a terminal (or in a notebook) each phase is one rich progress bar that advances with the
phase's epochs, with its elapsed time and an estimate of the time left; the first epoch of a
phase also compiles its program on JAX, so the bar waits there before it moves. Anywhere else
(a pipe, a log file, a test's captured stream) each finished phase is one line on stderr with
its epoch count and its time. Both show, where the phase has held-out rows and a
:class:`Readout`, the best value so far of the selection measure in the units of the path's
table (or, when the measure cannot be had from a loss, the held-out loss, named as such).
"""

from __future__ import annotations

import dataclasses
import sys
import time
import warnings

import numpy as np

from .. import interrupts

__all__ = ["Progress", "Readout", "measure_readout"]

#: The engine's data loss of each task, in words (Keras's loss: what a held-out fold's number is).
LOSS_WORDS = {"binary": "log loss", "multiclass": "log loss", "regression": "squared error",
              "poisson": "Poisson loss", "cox": "negative log partial likelihood"}


@dataclasses.dataclass(frozen=True)
class Readout:
    """How a phase shows its members' held-out data loss: ``scale * loss + shift`` per member,
    then per strength the mean over its members weighted by ``weight`` (each member's fold
    weight; 0 for a member without held-out rows), named ``name``. Lower is better."""

    name: str
    scale: float | np.ndarray = 1.0
    shift: float | np.ndarray = 0.0
    weight: np.ndarray | None = None

    def per_strength(self, val_loss, shape):
        """The value of each strength ``[L]`` (NaN where a weighted member has no number)."""
        value = (self.scale * np.asarray(val_loss, float) + self.shift).reshape(shape)
        weight = np.ones(shape) if self.weight is None else np.asarray(self.weight, float).reshape(shape)
        counted = weight > 0
        complete = np.where(counted, np.isfinite(value), True).all(axis=1) & counted.any(axis=1)
        total = np.where(counted, weight * np.where(np.isfinite(value), value, 0.0), 0.0).sum(axis=1)
        return np.where(complete, total / np.maximum(weight.sum(axis=1), 1e-300), np.nan)


def measure_readout(task, measure, y, weight, held_out, member_rows, scaling=None) -> Readout:
    """The :class:`Readout` of a path's CV members: its measure in the units of the path's table
    where a member's held-out loss gives it, else the held-out loss under its own name.

    ``y`` the encoded target, ``weight`` the row weights, ``held_out [R, n]`` the row sets held
    out, ``member_rows [K]`` each member's set, ``scaling`` the engine's (its ``y_scale`` undoes
    the regression target's standardization). Keras's log losses are half the deviance; its
    mean squared error averages over outputs, the deviance sums them; Poisson's
    ``mu - y log mu`` is half the deviance less ``y log y - y``.
    """
    from .measures import label

    held_out, member_rows = np.asarray(held_out, bool), np.asarray(member_rows, int)
    fold_weight = (held_out * np.asarray(weight, float)).sum(axis=1)
    member_weight = fold_weight[member_rows]
    y_scale = None if scaling is None else scaling[3]
    outputs = np.asarray(y).reshape(len(y), -1).shape[1]
    if measure == "deviance" and task in ("binary", "multiclass"):
        return Readout("CV deviance", 2.0, 0.0, member_weight)
    if measure in ("deviance", "mse") and task == "regression":
        name = f"CV {label(measure)}"
        if y_scale is None:
            return Readout(name, float(outputs), 0.0, member_weight)
        if outputs == 1:
            return Readout(name, np.square(np.asarray(y_scale, float).reshape(len(member_rows), -1)[:, 0]),
                           0.0, member_weight)
        return Readout("held-out mean squared error (standardized targets)", 1.0, 0.0, member_weight)
    if measure == "deviance" and task == "poisson":
        counts = np.asarray(y, float).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            ylogy = np.where(counts > 0, counts * np.log(np.where(counts > 0, counts, 1.0)), 0.0)
        per_set = (held_out * (np.asarray(weight, float) * (ylogy - counts))).sum(axis=1)
        constant = np.where(fold_weight > 0, per_set / np.maximum(fold_weight, 1e-300), 0.0)
        return Readout("CV deviance", 2.0, 2.0 * constant[member_rows], member_weight)
    standardized = task == "regression" and y_scale is not None
    loss = LOSS_WORDS[task] + (" (standardized target)" if standardized else "")
    return Readout(f"held-out {loss}; {label(measure)} after the fit", 1.0, 0.0, member_weight)


class Progress:
    """The epochs of each phase of a path: a rich bar per phase on a terminal, a line per phase
    on any other stream (stderr). ``verbose`` 0 shows nothing; the callback still checks for a
    deferred Ctrl-C or SIGTERM after every epoch."""

    def __init__(self, verbose, stream=None):
        self.verbose, self.stream = bool(verbose), stream
        self.bar = self.task = None
        self.label = None
        if not self.verbose:
            return
        from rich.console import Console

        console = Console(file=self.stream or sys.stderr)
        if console.is_terminal or console.is_jupyter:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("epochs"), TimeElapsedColumn(),
                                TextColumn("left"), TimeRemainingColumn(), console=console, transient=False)
            self.bar.start()

    def phase(self, label, epochs, shape, readout=None):
        """Start the next phase: ``epochs`` at most, ``shape`` (strengths, members each) of the
        members' ``[K]`` arrays, ``readout`` how to show their held-out loss (None: not shown)."""
        self._end_phase()
        self.label, self.epochs, self.shape, self.readout = label.strip(), int(epochs), shape, readout
        self.done, self.best, self.start = 0, None, time.perf_counter()
        if self.bar is not None:
            self.task = self.bar.add_task(self._description(first=True), total=max(self.epochs, 1))

    def _best_words(self):
        if self.best is None:
            return ""
        return f"best {self.readout.name} {self.best:.4g}"

    def _description(self, first=False):
        words = self._best_words()
        waiting = " (compiling)" if first and _compiles() else ""
        return f"{self.label:<5}{waiting}" + (f" {words}" if words else "")

    def __call__(self, epoch, logs):
        # Between epochs is where a Ctrl-C or SIGTERM that the command line deferred takes effect.
        interrupts.check()
        if self.label is None:
            return
        self.done = max(self.done, int(epoch) + 1)
        if self.readout is not None and logs.get("val_loss") is not None:
            with warnings.catch_warnings():  # strengths without held-out rows: all NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                values = self.readout.per_strength(logs["val_loss"], self.shape)
            if np.isfinite(values).any():
                now = float(np.nanmin(values))
                self.best = now if self.best is None else min(self.best, now)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, description=self._description())

    def _end_phase(self, finished=True):
        if self.label is None:
            return
        seconds = time.perf_counter() - self.start
        stopped = 0 < self.done < self.epochs
        if self.bar is not None:
            if stopped:  # early stopping ended the phase: the bar is full at the epochs run
                self.bar.update(self.task, total=self.done, completed=self.done,
                                description=f"{self._description()} (stopped early)")
        elif self.verbose and finished:
            epochs = f"{self.done} of at most {self.epochs} epochs" if stopped else f"{self.done} epochs"
            members = int(np.prod(self.shape))
            words = self._best_words()
            print(f"{self.label}: {epochs} of {members} network{'s' * (members != 1)} in {seconds:.1f} s"
                  + (f"; {words}" if words else ""), file=self.stream or sys.stderr, flush=True)
        self.label = None

    def close(self, finished=True):
        """End the last phase (its line printed only when ``finished``: not after an interruption
        or an error) and stop the bars."""
        self._end_phase(finished)
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _compiles() -> bool:
    """True when a phase's first epoch compiles its program (JAX): the bar waits there."""
    try:
        import keras

        return keras.backend.backend() == "jax"
    except ImportError:  # pragma: no cover - keras is a dependency
        return False
