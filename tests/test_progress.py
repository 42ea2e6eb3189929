"""fit_path's progress: the epochs of each phase, one line a phase off a terminal, the measure's units."""

import re

import numpy as np
import pytest

from kerasnet import fit_path
from kerasnet.path.progress import Progress, Readout, measure_readout

pytestmark = pytest.mark.backend


def _record(monkeypatch):
    """Every callback's (phase, epoch) and, at each CV epoch, the readout of every strength."""
    seen, readouts, call = [], [], Progress.__call__

    def spy(self, epoch, logs):
        seen.append((self.label, epoch))
        if self.label == "CV" and self.readout is not None:
            readouts.append(self.readout.per_strength(logs["val_loss"], self.shape))
        return call(self, epoch, logs)

    monkeypatch.setattr(Progress, "__call__", spy)
    return seen, readouts


def _data(task, n=48, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    signal = X[:, 0] - 0.5 * X[:, 1]
    if task == "binary":
        return X, (signal + 0.5 * rng.normal(size=n) > 0).astype(int)
    if task == "poisson":
        return X, rng.poisson(np.exp(0.5 * signal))
    return X, 50.0 + 10.0 * signal + rng.normal(size=n)  # far from the standardized scale


def test_each_phase_reports_its_epochs_and_prints_one_line_with_its_time(monkeypatch, capsys):
    seen, _ = _record(monkeypatch)
    X, y = _data("binary")
    fit_path(X, y, baselines=False, hidden=(4,), lambdas=[0.1, 0.01], cv=2, epochs=6, patience=100, seed=0,
             verbose=1)
    cv = [epoch for label, epoch in seen if label == "CV"]
    refit = [epoch for label, epoch in seen if label == "Refit"]
    assert cv == list(range(6))  # every epoch of the phase, not just its first and last
    assert refit == list(range(len(refit))) and refit
    lines = capsys.readouterr().err.splitlines()  # a captured stream is no terminal: lines, no bar
    assert len(lines) == 2, lines
    assert re.fullmatch(r"CV: 6 epochs of 4 networks in \d+\.\d s; best CV deviance \d\.\d+", lines[0]), lines
    assert re.fullmatch(rf"Refit: {len(refit)} epochs of 2 networks in \d+\.\d s", lines[1]), lines


@pytest.mark.parametrize("task", ["binary", "regression", "poisson"])
def test_the_cv_readout_is_the_table_measure_in_its_units(monkeypatch, task):
    """Without early stopping the members' last weights are the path's: the readout at the last
    epoch is the CV deviance the table prints (twice Keras's log loss; the regression target back
    in its own units; Poisson's ``y log y - y`` restored)."""
    _, readouts = _record(monkeypatch)
    X, y = _data(task)
    path = fit_path(X, y, baselines=False, task=task, hidden=(4,), lambdas=[0.1, 0.01], cv=2, epochs=3,
                    early_stopping=False,
                    seed=0, verbose=0)
    np.testing.assert_allclose(readouts[-1], path.cv_mean_, rtol=2e-3)


def test_readout_names_the_measure_or_what_it_shows():
    y, weight = np.array([0, 1, 1, 0]), np.ones(4)
    held = np.array([[1, 1, 0, 0], [0, 0, 1, 1]], bool)
    assert measure_readout("binary", "deviance", y, weight, held, [0, 1]).name == "CV deviance"
    auc = measure_readout("binary", "auc", y, weight, held, [0, 1]).name
    assert auc == "held-out log loss; AUC after the fit"
    cox = measure_readout("cox", "cindex", np.ones((4, 2)), weight, held, [0, 1]).name
    assert "Harrell's C" in cox and "loss" not in cox and not cox.startswith("CV")
    two = measure_readout("regression", "mse", np.ones((4, 2)), weight, held, [0, 1],
                          (None, None, None, np.ones((2, 2))))
    assert two.name == "held-out mean squared error (standardized targets)"


def test_readout_weights_folds_and_skips_strengths_with_a_missing_fold():
    readout = Readout("CV deviance", 2.0, 0.0, np.array([1.0, 3.0, 0.0, 1.0, 3.0, 0.0]))
    values = readout.per_strength([0.1, 0.2, np.nan, 0.3, np.nan, 0.5], (2, 3))
    assert values[0] == pytest.approx(2 * (0.1 + 3 * 0.2) / 4)  # the refit member (weight 0) is no fold
    assert np.isnan(values[1])  # a fold without a number: no mean of the others


def test_terminal_shows_a_bar_with_time_left(monkeypatch):
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = Terminal()
    bar = Progress(1, stream=stream)
    bar.phase("CV   ", 4, (1, 2), Readout("CV deviance", 2.0))
    for epoch in range(3):
        bar(epoch, {"val_loss": np.array([0.5, 0.4 - 0.1 * epoch])})
    bar.close()
    shown = stream.getvalue()
    assert "3/3" in shown and "stopped early" in shown  # the epochs run, the early stop said
    assert "best CV deviance 0.7" in shown  # 2 * mean(0.5, 0.2), the lowest of the three epochs
    assert "left" in shown and bar.bar is None
