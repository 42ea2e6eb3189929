"""The command line never loses a user's file and never turns a failure into a traceback.

Every case checks the exit code, the single error line, and that each input is byte-identical
afterwards (sha256 before and after).
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli

FAST = ["--epochs", "2", "--hidden", "4", "--batch-size", "64"]
PATH_FAST = ["--epochs", "2", "--hidden", "4", "--n-lambdas", "2", "--cv", "2"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def digests(folder) -> dict:
    """sha256 of every file under ``folder`` (relative names), to show nothing changed."""
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            found[os.path.relpath(path, folder)] = digest(path)
    return found


def table(n=40, seed=0, target_scale=None):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    if target_scale is None:
        frame["y"] = np.where(x[:, 0] + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    else:
        frame["y"] = (x[:, 0] + 2.5) * target_scale
    return frame


def refused(result, *words):
    """Exit 2, one line on stderr starting with the program's prefix, naming ``words``."""
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("kerasnet: error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A user's folder holding train.csv and other files of theirs; the current folder."""
    table().to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "notes.txt").write_text("my notes")
    (tmp_path / "inner").mkdir()
    table(seed=1).to_csv(tmp_path / "inner" / "g.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------- --overwrite


@pytest.mark.parametrize("command, extra", [("fit", FAST), ("path", PATH_FAST)])
def test_overwrite_refuses_the_current_folder(workdir, command, extra):
    before = digests(workdir)
    result = invoke(command, "train.csv", "--target", "y", *extra, "--out", ".", "--overwrite")
    refused(result, "current folder")
    assert digests(workdir) == before


def test_overwrite_refuses_a_folder_above_the_current_one(workdir, monkeypatch):
    monkeypatch.chdir(workdir / "inner")
    before = digests(workdir)
    result = invoke("fit", "g.csv", "--target", "y", *FAST, "--out", "..", "--overwrite")
    refused(result, "current folder or one above it")
    assert digests(workdir) == before


def test_overwrite_refuses_the_folder_holding_the_input(workdir):
    before = digests(workdir)
    result = invoke("fit", "inner/g.csv", "--target", "y", *FAST, "--out", "inner", "--overwrite")
    refused(result, "holds the input")
    assert digests(workdir) == before


def test_overwrite_refuses_the_input_file_itself(workdir):
    before = digests(workdir)
    result = invoke("fit", "train.csv", "--target", "y", *FAST, "--out", "train.csv", "--overwrite")
    refused(result, "holds the input")
    assert digests(workdir) == before


def test_overwrite_refuses_a_folder_that_is_not_a_kerasnet_run(workdir):
    (workdir / "mine").mkdir()
    (workdir / "mine" / "thesis.tex").write_text("chapter 1")
    before = digests(workdir)
    result = invoke("fit", "train.csv", "--target", "y", *FAST, "--out", "mine", "--overwrite")
    refused(result, "not a kerasnet run folder")
    assert digests(workdir) == before


def test_overwrite_refuses_a_run_folder_holding_files_of_the_user(workdir):
    assert invoke("fit", "train.csv", "--target", "y", *FAST, "--out", "run").exit_code == 0
    assert json.loads((workdir / "run" / ".kerasnet-run").read_text())["command"] == "fit"
    (workdir / "run" / "my_analysis.ipynb").write_text("{}")
    before = digests(workdir)
    result = invoke("fit", "train.csv", "--target", "y", *FAST, "--out", "run", "--overwrite")
    refused(result, "did not write", "my_analysis.ipynb")
    assert digests(workdir) == before


def test_overwrite_replaces_an_earlier_path_run(workdir):
    assert invoke("path", "train.csv", "--target", "y", *PATH_FAST, "--out", "run").exit_code == 0
    before = digest(workdir / "train.csv")
    result = invoke("path", "train.csv", "--target", "y", *PATH_FAST, "--seed", "3", "--out", "run",
                    "--overwrite")
    assert result.exit_code == 0, result.output
    assert json.loads((workdir / "run" / "metrics.json").read_text())["settings"]["seed"] == 3
    assert digest(workdir / "train.csv") == before and (workdir / "notes.txt").read_text() == "my notes"


@pytest.fixture
def fitted(workdir):
    assert invoke("fit", "train.csv", "--target", "y", *FAST, "--out", "run").exit_code == 0
    return workdir / "run"


@pytest.mark.parametrize("target", ["train.csv", "run/model.keras", "run/preprocessing.json"])
def test_predict_never_overwrites_its_inputs(fitted, workdir, target):
    before = digests(workdir)
    result = invoke("predict", "run", "train.csv", "--out", target, "--overwrite")
    refused(result, "is an input")
    assert digests(workdir) == before


def test_predict_overwrite_replaces_only_a_predictions_file(fitted, workdir):
    before = digests(workdir)
    refused(invoke("predict", "run", "train.csv", "--out", "notes.txt", "--overwrite"),
            "not a predictions file")
    assert digests(workdir) == before
    assert invoke("predict", "run", "train.csv", "--out", "preds.csv").exit_code == 0
    first = pd.read_csv(workdir / "preds.csv")
    table(seed=5).head(7).to_csv(workdir / "new.csv", index=False)
    assert invoke("predict", "run", "new.csv", "--out", "preds.csv", "--overwrite").exit_code == 0
    assert len(first) == 40 and len(pd.read_csv(workdir / "preds.csv")) == 7


# --------------------------------------------------------------------------- unwritable places


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs a /proc file system")
@pytest.mark.parametrize("command, extra", [("fit", FAST), ("path", PATH_FAST)])
def test_unwritable_out_folder_is_bad_input(workdir, command, extra):
    result = invoke(command, "train.csv", "--target", "y", *extra, "--out", "/proc/kerasnet-x")
    refused(result, "cannot write --out '/proc/kerasnet-x'")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs a /proc file system")
def test_unwritable_predictions_file_is_bad_input(fitted):
    refused(invoke("predict", "run", "train.csv", "--out", "/proc/preds.csv"), "cannot write --out")


def test_out_below_a_file_is_bad_input(workdir):
    refused(invoke("fit", "train.csv", "--target", "y", *FAST, "--out", "notes.txt/run"), "is a file")


# --------------------------------------------------------------------------- divergence, absurd values


@pytest.mark.parametrize(
    "flag, value, words",
    [
        ("--learning-rate", "inf", "finite number in (0, 10]"),
        ("--learning-rate", "nan", "finite number in (0, 10]"),
        ("--learning-rate", "1e3", "finite number in (0, 10]"),
        ("--l1", "1e308", "far too large"),
        ("--l2", "nan", "finite number >= 0"),
        ("--l2", "-1", "finite number >= 0"),
    ],
)
def test_absurd_rates_and_strengths_refused_up_front(workdir, flag, value, words):
    before = digests(workdir)
    refused(invoke("fit", "train.csv", "--target", "y", *FAST, flag, value, "--out", "run"), words)
    assert digests(workdir) == before and not (workdir / "run").exists()


def test_divergence_is_a_saved_result_not_a_crash(workdir):
    table(target_scale=1e20).to_csv(workdir / "big.csv", index=False)
    result = invoke("fit", "big.csv", "--target", "y", *FAST, "--out", "run")
    assert result.exit_code == 0, result.output
    assert "kerasnet: warning: training diverged" in result.stderr
    metrics = json.loads((workdir / "run" / "metrics.json").read_text())  # valid JSON: no NaN
    assert metrics["diverged"] is True and metrics["train"]["loss"] is None
    assert "Training diverged" in (workdir / "run" / "report.html").read_text()


def test_a_run_that_converges_records_no_divergence(fitted):
    assert json.loads((fitted / "metrics.json").read_text())["diverged"] is False


def test_target_beyond_float32_is_bad_input(workdir):
    table(target_scale=1e39).to_csv(workdir / "huge.csv", index=False)
    before = digests(workdir)
    refused(invoke("fit", "huge.csv", "--target", "y", *FAST, "--out", "run"), "float32", "rescale")
    assert digests(workdir) == before


# --------------------------------------------------------------------------- folds on small data


def test_path_cv_larger_than_rows(workdir):
    table(n=6).to_csv(workdir / "six.csv", index=False)
    refused(invoke("path", "six.csv", "--target", "y", *PATH_FAST[:-2], "--cv", "10", "--out", "run"),
            "--cv 10 folds need at least 10 rows", "cv <= 6")


def test_path_cv_larger_than_a_class(workdir):
    frame = table(n=30)
    frame["y"] = ["rare"] * 3 + ["common"] * 27
    frame.to_csv(workdir / "rare.csv", index=False)
    refused(invoke("path", "rare.csv", "--target", "y", *PATH_FAST[:-2], "--cv", "5", "--out", "run"),
            "class 'rare' has only 3 rows", "cv <= 3")


def test_compare_on_tiny_data_names_its_own_flags(workdir):
    frame = table(n=12)
    frame["y"] = ["rare"] * 2 + ["common"] * 10
    frame.to_csv(workdir / "tiny.csv", index=False)
    result = invoke("compare", "tiny.csv", "--target", "y", "--epochs", "1", "--hidden", "4", "--out", "run")
    refused(result)
    assert "--validation-split 0" not in result.stderr and "--test-split" in result.stderr


# --------------------------------------------------------------------------- damaged files, Ctrl-C


def test_truncated_model_file_is_reported_as_damaged(fitted, workdir):
    data = (fitted / "model.keras").read_bytes()
    (fitted / "model.keras").write_bytes(data[: len(data) // 2])
    refused(invoke("predict", "run", "train.csv"), "damaged", "model.keras")


def test_model_file_with_bad_contents_is_bad_input(fitted):
    with zipfile.ZipFile(fitted / "model.keras", "w") as archive:
        archive.writestr("config.json", "{not json")
    refused(invoke("predict", "run", "train.csv"), "cannot load")


def _console_script() -> str:
    return os.path.join(os.path.dirname(sys.executable), "kerasnet")


@pytest.mark.skipif(not os.path.exists(os.path.join(os.path.dirname(sys.executable), "kerasnet")),
                    reason="the kerasnet console script is not installed next to this Python")
@pytest.mark.parametrize("delay", [0.3, 0.6, 1.5])
def test_ctrl_c_during_start_up_exits_130_without_traceback(tmp_path, delay):
    # Importing Keras and JAX takes seconds; the interrupt lands inside those imports (some of
    # it in JAX's garbage-collection callbacks, where a KeyboardInterrupt would be swallowed).
    process = subprocess.Popen([_console_script(), "fit", "--dataset", "iris", "--out", str(tmp_path / "r")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and err.strip() == "kerasnet: error: interrupted; nothing was written."
    assert os.listdir(tmp_path) == []


def test_hundreds_of_classes_give_a_short_line(workdir):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(600, 2)), columns=["a", "b"])
    frame["y"] = [f"c{i}" for i in rng.integers(0, 500, 600)]
    frame.to_csv(workdir / "many.csv", index=False)
    for command, extra in (("fit", FAST), ("path", PATH_FAST[:-2])):
        result = invoke(command, "many.csv", "--target", "y", *extra, "--out", "run")
        refused(result, "class")
        assert len(result.stderr) < 400, result.stderr
