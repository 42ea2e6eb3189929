"""``kerasnet select`` and ``kerasnet path --feature-selection``: files, printout, report, errors."""

import json
import os
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli

# Linear base procedure (--hidden none): the fastest fit. --pfer 10 keeps every strength in the
# region (5 features: q <= 5, bound <= 25 / (0.5 * 5) = 10), so the selection is decided by the
# probabilities alone.
SELECT = ["select", "--n-pairs", "2", "--n-lambdas", "3", "--epochs", "5", "--hidden", "none", "--pfer", "10"]
PATH = ["path", "--n-lambdas", "3", "--cv", "2", "--epochs", "20", "--hidden", "none",
        "--learning-rate", "1e-2"]
FEATURES = ["x1", "x2", "color=blue", "color=green", "color=red"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _table(n=60, seed=0):
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
def selected(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "select"
    result = invoke(*SELECT, data, "--target", "label", "--out", out)
    assert result.exit_code == 0, result.output
    return out, result.output


def test_select_writes_its_files(selected):
    out, _ = selected
    assert {"stability.csv", "probabilities.csv", "metrics.json", "stability.png", "report.html",
            ".kerasnet-run"} <= set(os.listdir(out))
    assert json.loads((out / ".kerasnet-run").read_text())["command"] == "select"
    probabilities = pd.read_csv(out / "probabilities.csv")
    assert list(probabilities.columns) == ["lambda", *FEATURES] and len(probabilities) == 3
    assert probabilities["lambda"].is_monotonic_decreasing
    # 2 pairs = 4 half-samples: every probability is a count of halves over 4.
    values = probabilities[FEATURES].to_numpy()
    np.testing.assert_allclose(values * 4, np.round(values * 4))
    stability = pd.read_csv(out / "stability.csv")
    assert list(stability.columns) == ["feature", "probability", "max_probability", "selected"]
    assert sorted(stability["feature"]) == sorted(FEATURES)
    assert stability["probability"].is_monotonic_decreasing
    by_name = stability.set_index("feature")
    np.testing.assert_allclose(by_name.loc[FEATURES, "max_probability"], values.max(axis=0))


def test_select_metrics_agree_with_the_probabilities(selected):
    out, _ = selected
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["kind"] == "select" and metrics["task"] == "binary" and metrics["target"] == "label"
    assert metrics["settings"]["n_pairs"] == 2 and metrics["settings"]["adaptive"] is True
    assert metrics["data"]["feature_names"] == FEATURES
    assert metrics["command"]["line"].startswith("kerasnet select")
    record = metrics["stability"]
    assert record["threshold"] == 0.75 and record["pfer"] == 10 and record["n_pairs"] == 2
    probabilities = pd.read_csv(out / "probabilities.csv")
    region = record["region_index"]
    assert region == 2 and record["lambda_region"] == pytest.approx(probabilities["lambda"].iloc[-1])
    assert record["lambda_max"] == pytest.approx(probabilities["lambda"].iloc[0])
    best = probabilities[FEATURES].iloc[: region + 1].max(axis=0)
    assert record["selected"] == [f for f in FEATURES if best[f] >= 0.75]
    stability = pd.read_csv(out / "stability.csv")
    assert sorted(stability.loc[stability["selected"], "feature"]) == sorted(record["selected"])
    assert 0 < record["expected_false"] <= record["pfer"]


def test_select_prints_the_table_and_the_bound(selected):
    out, output = selected
    record = json.loads((out / "metrics.json").read_text())["stability"]
    assert "max probability" in output and "x1" in output
    line = next(li for li in output.splitlines() if "features selected at threshold" in li)
    assert line.startswith(f"{record['n_selected']} of 5 features selected at threshold 0.75")
    assert f"at most {record['expected_false']:.2g} false selections expected" in line


def test_select_report_has_the_stability_section(selected):
    out, _ = selected
    html = (out / "report.html").read_text()
    assert "<h2>Stability selection</h2>" in html and "data:image/png;base64," in html
    record = json.loads((out / "metrics.json").read_text())["stability"]
    assert f"At most {record['expected_false']:.2g} false selections expected" in html
    rows = re.findall(r'<tr class="chosen"><td>([^<]*)</td>', html)
    assert sorted(rows) == sorted(record["selected"])
    # Rebuilding the report from the files gives the same section.
    os.remove(out / "stability.png")
    result = invoke("report", out)
    assert result.exit_code == 0, result.output
    assert (out / "stability.png").exists()
    assert "<h2>Stability selection</h2>" in (out / "report.html").read_text()


def test_select_says_when_no_strength_meets_pfer(data, tmp_path):
    out = tmp_path / "run"
    result = invoke(*SELECT[:-2], "--pfer", "0.01", data, "--target", "label", "--out", out)
    assert result.exit_code == 0, result.output
    assert "0 of 5 features selected" in result.output and "raise --pfer or --threshold" in result.output
    record = json.loads((out / "metrics.json").read_text())["stability"]
    assert record["selected"] == [] and record["lambda_region"] is None
    assert "No feature selected." in (out / "report.html").read_text()


@pytest.mark.parametrize("args, words", [
    (["--threshold", "0.4"], ["--threshold", "0.4 is not in (0.5, 1]", "such as 0.75"]),
    (["--threshold", "1.5"], ["--threshold", "1.5 is not in (0.5, 1]"]),
    (["--n-pairs", "0"], ["--n-pairs", "0"]),
    (["--pfer", "0"], ["--pfer", "0"]),
    (["--target", "nope"], ["--target nope is not a column"]),
    (["--target", "label", "--hidden", "4,x"], ["--hidden", "positive integers"]),
])
def test_select_bad_input_is_one_line_exit_2_nothing_written(data, tmp_path, args, words):
    out = tmp_path / "run"
    target = [] if "--target" in args else ["--target", "label"]
    result = invoke("select", data, *target, *args, "--out", out)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("kerasnet: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_select_too_few_rows_names_the_problem(tmp_path):
    path = tmp_path / "tiny.csv"
    _table(3).to_csv(path, index=False)
    result = invoke(*SELECT, path, "--target", "label", "--out", tmp_path / "run")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "at least 20 rows, got 3" in result.stderr and result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.csv"]


def test_select_a_class_too_small_for_two_halves_names_it(tmp_path):
    path = tmp_path / "thirty.csv"
    table = _table(30)
    table["label"] = ["yes"] + ["no"] * 29
    table.to_csv(path, index=False)
    result = invoke(*SELECT, path, "--target", "label", "--out", tmp_path / "run")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "class 'yes' has a single row" in result.stderr and "cv=" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thirty.csv"]


def test_select_passes_its_options_to_the_library(data, tmp_path, monkeypatch):
    import kerasnet.path

    seen = {}

    def fake(X, y, **kwargs):
        seen.update(kwargs, columns=list(X.columns))
        raise KeyboardInterrupt  # stop before anything is written

    monkeypatch.setattr(kerasnet.path, "stability_selection", fake)
    args = ["--hidden", "3,2", "--n-pairs", "7", "--threshold", "0.9", "--pfer", "2", "--n-lambdas", "5",
            "--lambda-min-ratio", "0.1", "--epochs", "9", "--batch-size", "8", "--learning-rate", "0.01",
            "--patience", "4", "--hidden-l2", "0.05", "--seed", "3"]
    result = invoke("select", data, "--target", "label", *args, "--out", tmp_path / "run")
    assert result.exit_code == 130, result.output
    assert seen == {"hidden": (3, 2), "task": "binary", "n_pairs": 7, "n_lambdas": 5, "lambda_min_ratio": 0.1,
                    "threshold": 0.9, "pfer": 2.0, "epochs": 9, "batch_size": 8, "learning_rate": 0.01,
                    "patience": 4, "hidden_l2": 0.05, "adaptive": True, "seed": 3, "verbose": 1,
                    "lambdas": None, "sample_weight": None, "columns": FEATURES}
    seen.clear()
    invoke("select", data, "--target", "label", "--plain", "--out", tmp_path / "run")
    assert seen["adaptive"] is False
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- path --feature-selection


def test_path_feature_selection_records_and_prints_the_selected_features(data, tmp_path):
    import keras

    out = tmp_path / "run"
    result = invoke(*PATH, "--feature-selection", "--select", "min", data, "--target", "label", "--out", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["settings"]["feature_selection"] is True and metrics["settings"]["adaptive"] is True
    record = metrics["path"]
    names = record["selected_features"]
    assert record["n_selected_features"] == len(names) and set(names) <= set(FEATURES)
    # The features named are the nonzero rows of the saved model's first Dense kernel ...
    model = keras.saving.load_model(out / "model.keras", compile=False)
    kernel = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense)).kernel
    kept = np.abs(keras.ops.convert_to_numpy(kernel)).sum(axis=1) > 0
    assert names == [f for f, k in zip(FEATURES, kept, strict=True) if k]
    # ... and of the feature path at the selected strength.
    feature_path = pd.read_csv(out / "feature_path.csv")
    assert list(feature_path.columns) == ["lambda", *FEATURES]
    row = feature_path.loc[np.isclose(feature_path["lambda"], record["lambda_selected"])].iloc[0]
    assert names == [f for f in FEATURES if row[f] > 0]
    line = next(li for li in result.output.splitlines() if li.startswith("selected features ("))
    assert line.endswith(", ".join(names) or "none") and f"({len(names)} of 5 at lambda_min)" in line
    html = (out / "report.html").read_text()
    assert "Feature selection (a group lasso on the input features)" in html
    assert f"keeps <b>{len(names)}</b> of 5 features" in html and "group lasso" in html


def test_path_feature_selection_flags_reach_fit_path(data, tmp_path, monkeypatch):
    import kerasnet.path

    seen = {}

    def fake(X, y, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(kerasnet.path, "fit_path", fake)
    base = ["path", data, "--target", "label", "--out", tmp_path / "run"]
    invoke(*base, "--feature-selection", "--relax", "--no-adaptive", "--hidden-l2", "0.05")
    assert {k: seen[k] for k in ("feature_selection", "relax", "adaptive", "hidden_l2")} == {
        "feature_selection": True, "relax": True, "adaptive": False, "hidden_l2": 0.05}
    invoke(*base, "--feature-selection")
    assert (seen["feature_selection"], seen["relax"], seen["adaptive"]) == (True, False, True)
    invoke(*base)
    assert (seen["feature_selection"], seen["relax"], seen["adaptive"]) == (False, False, True)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("flags", [["--relax"], ["--no-adaptive"], ["--relax", "--no-adaptive"]])
def test_path_relax_or_no_adaptive_need_feature_selection(data, tmp_path, flags):
    result = invoke("path", data, "--target", "label", *flags, "--out", tmp_path / "run")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith("kerasnet: error: ") and "add --feature-selection" in result.stderr
    assert all(flag in result.stderr for flag in flags)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["select", "--n-pairs", "1", "--n-lambdas", "2"],
                                     ["path", "--feature-selection", "--n-lambdas", "2", "--cv", "2"]])
def test_feature_selection_with_hidden_layers_runs(data, tmp_path, command):
    result = invoke(*command, "--hidden", "4", "--epochs", "2", data, "--target", "label",
                    "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output


def test_select_report_opens_with_what_to_conclude(selected):
    """The stable features counted from stability.csv and the bound from the record, in words."""
    out, _ = selected
    html = (out / "report.html").read_text()
    record = json.loads((out / "metrics.json").read_text())["stability"]
    stability = pd.read_csv(out / "stability.csv")
    stable = stability.loc[stability["selected"], "feature"].tolist()
    assert html.index(">What to conclude</h2>") < html.index(">Data</h2>")
    head = html[html.index(">What to conclude</h2>"):html.index(">Data</h2>")]
    assert f"<b>{len(stable)}</b> of 5 features are stable at the threshold 75%" in head
    assert f"at most <b>{record['expected_false']:.2g}</b> of them to be false selections" in head
    assert f"at least {max(0.0, len(stable) - record['expected_false']):.3g} of the {len(stable)}" in head
    assert all(name in head for name in stable)


def test_select_conclusion_without_a_region_says_what_to_change():
    from kerasnet.runs.verdicts import select_story

    words = " ".join(select_story({"stability": {"n_selected": 0, "n_features": 5, "threshold": 0.75,
                                                 "pfer": 0.01, "lambda_region": None}}))
    assert "No feature of 5 is stable" in words and "Raise --pfer" in words
