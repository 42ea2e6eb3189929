"""Ctrl-C and SIGTERM: honoured between epochs and before an output is moved into place, never lost.

The command line defers both signals (:mod:`kerasnet.interrupts`): a signal only records a
request, which the next epoch end or final rename turns into exit 130 (SIGINT) or 143
(SIGTERM) with one line, every temporary file removed and --out not created. A library
user's program keeps Python's own handlers.
"""

import gc
import glob
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from kerasnet import interrupts
from kerasnet.cli import cli
from kerasnet.runs.folder import atomic_dir, write_file_atomic

LINE = "kerasnet: error: interrupted; nothing was written."
SCRIPT = os.path.join(os.path.dirname(sys.executable), "kerasnet")


def test_a_deferred_signal_raises_only_at_check(capfd):
    with interrupts.deferred():
        interrupts.check()  # nothing pending: no-op
        os.kill(os.getpid(), signal.SIGTERM)
        total = sum(range(10_000))  # arbitrary code runs on undisturbed
        with pytest.raises(interrupts.Interrupted) as caught:
            interrupts.check()
    assert total == 49_995_000 and caught.value.signum == signal.SIGTERM and caught.value.exit_code == 143
    interrupts.check()  # leaving forgets the request
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Python's own handler is back
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_ctrl_c_inside_a_garbage_collection_callback_is_not_lost(capfd):
    # Python prints and swallows an exception raised in a gc callback: the way 2 of 31
    # Ctrl-C presses were lost. Deferred, the callback only records the request.
    def interrupt_in_callback(phase, info):
        if phase == "start":
            os.kill(os.getpid(), signal.SIGINT)
            sum(range(1000))  # the handler runs here, inside the callback

    with interrupts.deferred():
        gc.callbacks.append(interrupt_in_callback)
        try:
            gc.collect()
        finally:
            gc.callbacks.remove(interrupt_in_callback)
        with pytest.raises(interrupts.Interrupted) as caught:
            interrupts.check()
    assert caught.value.signum == signal.SIGINT and caught.value.exit_code == 130
    assert "Exception ignored" not in capfd.readouterr().err


def test_a_second_signal_stops_at_once():
    with interrupts.deferred():
        os.kill(os.getpid(), signal.SIGINT)
        with pytest.raises(interrupts.Interrupted):
            os.kill(os.getpid(), signal.SIGINT)
            sum(range(1000))  # the handler raises here, without waiting for check()


def test_sigterm_while_saving_a_run_folder_leaves_nothing(tmp_path):
    out = tmp_path / "run"
    with interrupts.deferred(), pytest.raises(interrupts.Interrupted):
        with atomic_dir(out) as folder:
            with open(os.path.join(folder, "model.keras"), "w") as fh:
                fh.write("half")
                os.kill(os.getpid(), signal.SIGTERM)
                fh.write(" and the rest")  # saving goes on to the end
    assert os.listdir(tmp_path) == []  # neither --out nor .run.tmp-*


def test_sigterm_while_writing_predictions_keeps_the_old_file(tmp_path):
    out = tmp_path / "p.csv"
    out.write_text("old\n")

    def write(path):
        with open(path, "w") as fh:
            fh.write("new\n")
        os.kill(os.getpid(), signal.SIGTERM)

    with interrupts.deferred(), pytest.raises(interrupts.Interrupted):
        write_file_atomic(out, write)
    assert os.listdir(tmp_path) == ["p.csv"] and out.read_text() == "old\n"  # no .p.csv.tmp-*


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def files_of(folder) -> dict:
    return {name: (folder / name).read_bytes() for name in os.listdir(folder)}


def leftovers(folder) -> list:
    return glob.glob(str(folder / "**" / ".*tmp-*"), recursive=True)


def test_ctrl_c_during_fit_stops_after_the_epoch(tmp_path, monkeypatch):
    from kerasnet.monitor import PenaltyMonitor

    epochs = []
    end = PenaltyMonitor.on_epoch_end

    def press_ctrl_c_at_epoch_2(self, epoch, logs=None):
        end(self, epoch, logs)
        epochs.append(epoch)
        if epoch == 1:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(PenaltyMonitor, "on_epoch_end", press_ctrl_c_at_epoch_2)
    result = invoke("fit", "--dataset", "iris", "--epochs", "50", "--hidden", "4", "--out", tmp_path / "run")
    assert result.exit_code == 130 and result.stderr == LINE + "\n", result.output
    assert epochs == [0, 1]  # the epoch ends, and no other starts
    assert os.listdir(tmp_path) == []


def test_sigterm_during_path_stops_after_the_epoch(tmp_path, monkeypatch):
    from kerasnet.path.progress import Progress

    phase, epoch_end, epochs = Progress.phase, Progress.__call__, []

    def sigterm_as_the_fit_starts(self, *args):
        phase(self, *args)
        os.kill(os.getpid(), signal.SIGTERM)

    def count(self, epoch, logs):
        epochs.append(epoch)
        return epoch_end(self, epoch, logs)

    monkeypatch.setattr(Progress, "phase", sigterm_as_the_fit_starts)
    monkeypatch.setattr(Progress, "__call__", count)
    result = invoke("path", "--dataset", "iris", "--epochs", "50", "--hidden", "4", "--n-lambdas", "2",
                    "--cv", "2", "--out", tmp_path / "run")
    assert result.exit_code == 143 and result.stderr == LINE + "\n", result.output
    assert epochs == [0]  # stopped at the first epoch's end, not at the final rename
    assert os.listdir(tmp_path) == []


def test_sigterm_during_report_exits_143_and_writes_nothing(tmp_path, monkeypatch):
    from kerasnet.runs import report

    result = invoke("fit", "--dataset", "iris", "--epochs", "1", "--hidden", "4", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    before = files_of(tmp_path / "run")
    render = report.render_report

    def render_then_signal(folder):
        files = render(folder)
        os.kill(os.getpid(), signal.SIGTERM)
        return files

    monkeypatch.setattr(report, "render_report", render_then_signal)
    result = invoke("report", tmp_path / "run")
    assert result.exit_code == 143 and result.stderr == LINE + "\n", result.output
    assert files_of(tmp_path / "run") == before and leftovers(tmp_path) == []


@pytest.mark.skipif(not os.path.exists(SCRIPT), reason="the kerasnet console script is not installed here")
def test_sigterm_to_the_command_stops_training_and_cleans_up(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([SCRIPT, "fit", "--dataset", "iris", "--hidden", "4", "--batch-size", "4",
                                "--epochs", "5000", "--out", str(tmp_path / "out" / "run")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               env=env)
    deadline, line = time.monotonic() + 90, ""
    while "Epoch 2/" not in line and time.monotonic() < deadline:  # training has started
        line = process.stdout.readline()
        assert line or process.poll() is None, process.stderr.read()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143 and err == LINE + "\n", err
    assert "Traceback" not in out and "Epoch 5000/" not in out
    assert os.listdir(tmp_path) == [] and leftovers(tmp_path) == []
