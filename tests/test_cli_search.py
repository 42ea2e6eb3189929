"""``kerasnet search``: the table, the files, predict on the saved run, the report, bad flags."""

import json
import os

import keras
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli

SEARCH = ["search", "--lambda", "1e-3,1e-2", "--dropout", "0,0.2", "--hidden", "4", "--hidden", "8",
          "--epochs", "5", "--cv", "3", "--learning-rate", "1e-2"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _table(n=90, seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    return pd.DataFrame({
        "x1": x1, "x2": rng.normal(size=n), "color": rng.choice(["red", "green", "blue"], n),
        "label": np.where(x1 + rng.normal(scale=0.3, size=n) > 0, "yes", "no"),
    })


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "train.csv"
    _table().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def searched(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "search"
    result = invoke(*SEARCH, data, "--target", "label", "--out", out)
    assert result.exit_code == 0, result.output
    return out, result.output


def test_search_prints_its_points_and_writes_its_files(searched):
    out, output = searched
    assert {"model.keras", "preprocessing.json", "search.csv", "metrics.json", "search.png", "report.html",
            ".kerasnet-run"} <= set(os.listdir(out))
    assert json.loads((out / ".kerasnet-run").read_text())["command"] == "search"
    frame = pd.read_csv(out / "search.csv")
    assert len(frame) == 8 and set(frame["hidden"]) == {"(4,)", "(8,)"}
    assert "kerasnet search (binary, 8 points x 3-fold CV)" in output
    assert "simplest within one SE (1se)" in output and "--nested 5 measures it" in output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["kind"] == "search" and metrics["search"]["n_points"] == 8
    saved = metrics["search"]["selected"]
    assert saved == metrics["search"]["simplest"]  # --select 1se by default
    assert metrics["model"]["layers"] == [5, *saved["hidden"], 1]
    # The recorded command line repeats --hidden, so it runs again as it is.
    assert "--hidden 4 --hidden 8" in metrics["command"]["line"]


def test_the_saved_model_predicts_with_kerasnet_predict(searched, data, tmp_path):
    out, _ = searched
    preds = tmp_path / "preds.csv"
    result = invoke("predict", out, data, "--out", preds)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(preds)
    assert len(frame) == 90 and set(frame["predicted_label"]) <= {"yes", "no"}
    model = keras.saving.load_model(out / "model.keras", safe_mode=True)
    widths = [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    metrics = json.loads((out / "metrics.json").read_text())
    assert widths == [*metrics["search"]["selected"]["hidden"], 1]


def test_the_report_opens_with_what_to_conclude_and_the_search(searched):
    out, _ = searched
    report = (out / "report.html").read_text()
    assert report.index("What to conclude") < report.index("1-SE error bars, ranked")
    assert "the best CV deviance is" in report and "Network and penalty" in report


@pytest.mark.parametrize("flags, words", [
    (["--dropout", "1"], "--dropout"),
    (["--learning-rate", "1e-3,1e-3"], "repeats a value"),
    (["--l1-ratio", "2"], "--l1-ratio"),
    (["--hidden", "none"], "linear model"),
    (["--lambda", "nan"], "--lambda"),
])
def test_a_bad_flag_is_one_line_and_writes_nothing(data, tmp_path, flags, words):
    out = tmp_path / "run"
    result = invoke("search", data, "--target", "label", *flags, "--epochs", "2", "--out", out)
    assert result.exit_code == 2, result.output
    assert words in result.output and len(result.output.strip().splitlines()) <= 3
    assert not out.exists()
