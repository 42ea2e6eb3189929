"""A folder the system refuses, or a disk that fills up mid-run: one line, exit 2, nothing left behind.

The checks run as any user (root ignores permission bits, so a ``chmod`` test would pass
for the wrong reason there): the system's refusal is simulated where kerasnet meets it,
``tempfile.mkdtemp`` for the pre-flight check of the output folder and the model's save for a
full disk during the write.
"""

import errno
import os

import pytest
from click.testing import CliRunner

from kerasnet.cli import cli
from kerasnet.runs import folder as run_folder

FAST = ["--epochs", "1", "--hidden", "4", "--batch-size", "64"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_exit_2(result, *words):
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("kerasnet: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr, result.stderr


def everything_under(folder) -> set:
    return {os.path.relpath(os.path.join(root, name), folder)
            for root, dirs, files in os.walk(folder) for name in dirs + files}


@pytest.fixture
def refusing_folder(tmp_path, monkeypatch):
    """``tmp_path/locked`` behaves as a folder without write permission."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real = run_folder.tempfile.mkdtemp

    def mkdtemp(*args, dir=None, **kwargs):
        if dir is not None and os.path.realpath(dir) == os.path.realpath(locked):
            raise PermissionError(errno.EACCES, "Permission denied", str(dir))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(run_folder.tempfile, "mkdtemp", mkdtemp)
    return locked


@pytest.mark.parametrize("command", [["fit", "--dataset", "iris", *FAST],
                                     ["path", "--dataset", "iris", *FAST, "--n-lambdas", "2", "--cv", "2"]])
def test_a_folder_that_refuses_writes_is_named_before_any_training(refusing_folder, command):
    result = invoke(*command, "--out", refusing_folder / "run")
    one_line_exit_2(result, "cannot write --out", "Permission denied", "choose a folder you can write to")
    assert everything_under(refusing_folder) == set()
    assert "Epoch" not in result.stdout  # refused before the first epoch, not after the training


def test_predict_into_a_folder_that_refuses_writes(tmp_path, refusing_folder, monkeypatch):
    run = tmp_path / "run"
    assert invoke("fit", "--dataset", "iris", *FAST, "--out", run).exit_code == 0
    rows = tmp_path / "rows.csv"
    from kerasnet.data import load_dataset

    load_dataset("iris")[0].head(5).to_csv(rows, index=False)
    result = invoke("predict", run, rows, "--out", refusing_folder / "predictions.csv")
    one_line_exit_2(result, "cannot write --out", "Permission denied")
    assert everything_under(refusing_folder) == set()


def test_a_disk_that_fills_up_while_the_run_is_written_leaves_nothing(tmp_path, monkeypatch):
    import keras

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(args[0]) if args else None)

    monkeypatch.setattr(keras.Model, "save", full)
    parent = tmp_path / "runs"
    parent.mkdir()
    result = invoke("fit", "--dataset", "iris", *FAST, "--out", parent / "run")
    one_line_exit_2(result, "No space left on device", "free space")
    # No run folder, no temporary folder, no half-written file next to where it would have been.
    assert everything_under(parent) == set()
