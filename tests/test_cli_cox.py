"""``kerasnet path --task cox``: survival tables from CSV, the bundled rossi data, and bad input."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli
from kerasnet.data import DATASETS, Preprocessor, load_dataset, load_survival_dataset
from kerasnet.survival import c_index

FAST = ["--epochs", "40", "--hidden", "4", "--batch-size", "64", "--learning-rate", "1e-2",
        "--n-lambdas", "4", "--cv", "3"]


def _survival_table(n=240, seed=0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    time = np.round(rng.exponential(np.exp(-(1.2 * x1 - 0.8 * x2))), 2) + 0.01
    status = (rng.random(n) < 0.8).astype(int)
    return pd.DataFrame({"id": np.arange(n), "x1": x1, "x2": x2, "noise": rng.normal(size=n),
                         "group": rng.choice(["a", "b"], n), "time": time, "status": status})


def test_cox_path_from_a_csv_then_predict(tmp_path):
    data, out = tmp_path / "survival.csv", tmp_path / "run"
    table = _survival_table()
    table.to_csv(data, index=False)
    result = CliRunner().invoke(cli, ["path", str(data), "--task", "cox", "--time-column", "time",
                                      "--event-column", "status", "--drop", "id", "--measure", "cindex",
                                      "--select", "min", *FAST, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "kerasnet path (cox" in result.output and "CV cindex" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "cox" and metrics["path"]["measure"] == "cindex"
    assert metrics["settings"]["time_column"] == "time" and metrics["settings"]["event_column"] == "status"
    assert metrics["data"]["survival"]["n_events"] == int(table["status"].sum())
    assert metrics["train"]["cindex"] > 0.7  # a strong signal in x1, x2
    assert metrics["path"]["cv_mean"] > 0.6
    pre = Preprocessor.load(out / "preprocessing.json")
    assert (pre.task_, pre.target_, pre.event_) == ("cox", "time", "status")
    assert pre.input_columns == ["x1", "x2", "noise", "group"]  # time, event and id are not features
    report = (out / "report.html").read_text()
    assert "Survival target" in report and "status" in report
    # The null model (eta = 0) has a C-index of one half; the report shows the deviance column too.
    assert metrics["path"]["baselines"]["null_mean"] == pytest.approx(0.5)
    assert "<th>cv_deviance</th>" in report and "the null model (0.5)" in report

    # predict loads model.keras in safe mode (another process) and keeps the other columns
    command = "import sys; from kerasnet.cli import cli; cli.main(sys.argv[1:])"
    predicted = subprocess.run([sys.executable, "-c", command, "predict", str(out), str(data)],
                               capture_output=True, text=True, timeout=300)
    assert predicted.returncode == 0, predicted.stderr
    from io import StringIO

    frame = pd.read_csv(StringIO(predicted.stdout))
    assert list(frame.columns[-2:]) == ["log_relative_hazard", "relative_hazard"]
    np.testing.assert_allclose(frame["relative_hazard"], np.exp(frame["log_relative_hazard"]), rtol=1e-6)
    y = table[["time", "status"]].to_numpy(float)
    assert c_index(y, frame["log_relative_hazard"]) == pytest.approx(metrics["train"]["cindex"], abs=1e-4)


def test_bundled_rossi_is_survival_data_and_infers_cox(tmp_path):
    frame, target = load_dataset("rossi")
    assert frame.shape == (432, 9) and target == "week" and DATASETS["rossi"] == "cox"
    X, y = load_survival_dataset("rossi")
    assert X.shape == (432, 7) and list(y.columns) == ["week", "arrest"] and int(y["arrest"].sum()) == 114
    out = tmp_path / "rossi"
    # A given grid and two epochs: this test is about the data (the fit is the test above's).
    tiny = ["--epochs", "2", "--hidden", "4", "--batch-size", "64", "--lambdas", "0.1,0.01", "--cv", "2"]
    result = CliRunner().invoke(cli, ["path", "--dataset", "rossi", *tiny, "--out", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "cox" and metrics["data"]["survival"]["n_events"] == 114
    assert metrics["settings"]["time_column"] == "week" and metrics["n_features_in"] == 7


BAD = [
    (["--task", "cox", "--target", "time"], "instead of --target"),
    (["--task", "cox", "--time-column", "time"], "needs --time-column and --event-column"),
    (["--task", "cox", "--time-column", "tme", "--event-column", "status"], "'tme' is not a column"),
    (["--task", "cox", "--time-column", "time", "--event-column", "time"], "name the same column"),
    (["--task", "cox", "--time-column", "time", "--event-column", "x1"], "must hold 1"),
    (["--task", "cox", "--time-column", "x1", "--event-column", "status"], "needs a number > 0"),
    (["--target", "status", "--time-column", "time"], "are the target of --task cox"),
]


@pytest.mark.parametrize("flags, words", BAD)
def test_bad_survival_flags_are_one_line(tmp_path, flags, words):
    data, out = tmp_path / "survival.csv", tmp_path / "run"
    _survival_table(60).to_csv(data, index=False)
    result = CliRunner().invoke(cli, ["path", str(data), *flags, *FAST, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert words in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("args, words", [
    (["fit", "--dataset", "rossi"], "is survival data"),
    (["path", "--dataset", "diabetes", "--task", "cox"], "has no survival times"),
])
def test_survival_datasets_only_where_they_fit(tmp_path, args, words):
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and words in result.output, result.output
    assert not (tmp_path / "run").exists()


def test_preprocessor_cox_target():
    table = _survival_table(30)
    pre = Preprocessor(task="cox").fit(table[["x1", "group"]], table[["time", "status"]])
    y = pre.encode_target(table[["time", "status"]].assign(status=lambda f: f["status"].astype(bool)))
    np.testing.assert_array_equal(y, table[["time", "status"]].to_numpy("float32"))
    again = Preprocessor.from_json(pre.to_json())
    assert (again.task_, again.target_, again.event_) == ("cox", "time", "status")
    with pytest.raises(ValueError, match="two columns, the time and the event"):
        Preprocessor(task="cox").fit(table[["x1"]], table["time"])
    with pytest.raises(ValueError, match="has no events"):
        pre.encode_target(table[["time", "status"]].assign(status=0))
