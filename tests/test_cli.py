"""The command line: fit writes a complete folder, predict equals the library, bad input is one line."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli
from kerasnet.data import Preprocessor

FILES = {"model.keras", "preprocessing.json", "history.csv", "metrics.json", "learning_curves.png",
         "report.html", "weight_histograms.png", ".kerasnet-run"}
FAST = ["--epochs", "3", "--hidden", "4", "--batch-size", "64"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    return pd.DataFrame(
        {
            "id": np.arange(1000, 1000 + n),
            "x1": x1,
            "x2": rng.normal(size=n),
            "color": rng.choice(["red", "green", "blue"], n),
            "label": np.where(x1 + rng.normal(scale=0.5, size=n) > 0, "yes", "no"),
        }
    )


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "train.csv"
    _table().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def run_dir(csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "run"
    result = invoke(
        "fit", csv, "--target", "label", "--drop", "id", "--l1", "1e-3", "--l2", "1e-2", *FAST, "--out", out
    )
    assert result.exit_code == 0, result.output
    return out


def test_fit_writes_all_files(run_dir):
    assert set(os.listdir(run_dir)) == FILES
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["task"] == "binary" and metrics["classes"] == ["no", "yes"]
    assert metrics["settings"]["l1"] == 1e-3 and metrics["settings"]["hidden"] == [4]
    assert metrics["train"]["n_rows"] == 48 and metrics["validation"]["n_rows"] == 12
    for split in ("train", "validation"):
        row = metrics[split]
        assert row["penalty"] > 0
        assert row["data_loss"] == pytest.approx(row["loss"] - row["penalty"])
    history = pd.read_csv(run_dir / "history.csv")
    assert list(history["epoch"]) == [1, 2, 3]
    assert {"loss", "val_loss", "penalty", "data_loss", "val_data_loss", "sparsity"} <= set(history.columns)
    assert (run_dir / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"
    pre = Preprocessor.load(run_dir / "preprocessing.json")
    assert "id" not in pre.input_columns and pre.feature_names_[:2] == ["x1", "x2"]


def test_fit_prints_epochs_and_table(csv, tmp_path):
    result = invoke("fit", csv, "--target", "label", "--drop", "id", *FAST, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert "Epoch 3/3" in result.stdout
    for word in ("train", "validation", "data loss", "penalty", "accuracy", "sparsity"):
        assert word in result.stdout


def _library_predictions(run_dir, frame):
    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    pre = Preprocessor.load(run_dir / "preprocessing.json")
    return model.predict(pre.transform(frame), verbose=0)


def test_predict_equals_library_and_keeps_ids_and_order(run_dir, tmp_path):
    new = _table(n=9, seed=5).drop(columns="label").iloc[::-1]
    new = new[["color", "x2", "id", "x1"]]  # column order does not matter
    path = tmp_path / "new.csv"
    new.to_csv(path, index=False)
    result = invoke("predict", run_dir, path)
    assert result.exit_code == 0, result.stderr
    from io import StringIO

    preds = pd.read_csv(StringIO(result.stdout))
    assert list(preds.columns) == ["id", "predicted_label", "proba_no", "proba_yes"]
    assert preds["id"].tolist() == new["id"].tolist()
    expected = _library_predictions(run_dir, new)[:, 0]
    np.testing.assert_allclose(preds["proba_yes"], expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(preds["proba_no"], 1 - expected, rtol=1e-6, atol=1e-7)
    assert preds["predicted_label"].tolist() == np.where(expected > 0.5, "yes", "no").tolist()

    out = tmp_path / "preds.csv"
    assert invoke("predict", run_dir, path, "--out", out).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(out), preds)
    again = invoke("predict", run_dir, path, "--out", out)
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert invoke("predict", run_dir, path, "--out", out, "--overwrite").exit_code == 0


def test_model_file_loads_in_fresh_process_without_kerasnet(run_dir, tmp_path):
    frame = _table(n=7, seed=9)
    x = Preprocessor.load(run_dir / "preprocessing.json").transform(frame)
    np.save(tmp_path / "x.npy", x)
    script = textwrap.dedent(
        f"""
        import sys, numpy as np, keras
        model = keras.saving.load_model({str(run_dir / "model.keras")!r}, safe_mode=True)
        np.save({str(tmp_path / "y.npy")!r}, model.predict(np.load({str(tmp_path / "x.npy")!r}), verbose=0))
        assert not any(m.startswith("kerasnet") for m in sys.modules), "kerasnet was imported"
        """
    )
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), _library_predictions(run_dir, frame), rtol=1e-6)


@pytest.mark.parametrize("dataset, columns", [("diabetes", ["predicted_target"]), ("iris", None)])
def test_fit_and_predict_on_bundled_data(dataset, columns, tmp_path):
    from kerasnet.data import load_dataset

    out = tmp_path / "run"
    assert invoke("fit", "--dataset", dataset, *FAST, "--out", out).exit_code == 0
    frame, target = load_dataset(dataset)
    frame.head(5).to_csv(tmp_path / "rows.csv", index=False)
    result = invoke("predict", out, tmp_path / "rows.csv")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0].split(",")
    if columns is None:  # classification: the label and one probability per class
        columns = ["predicted_target", "proba_setosa", "proba_versicolor", "proba_virginica"]
    assert header == [target, *columns]  # feature columns are not echoed; other columns are


def test_overwrite_replaces_an_earlier_run_only_after_success(csv, tmp_path):
    out = tmp_path / "run"
    assert invoke("fit", csv, "--target", "label", *FAST, "--out", out, "--seed", "1").exit_code == 0
    first = (out / "model.keras").read_bytes()
    refused = invoke("fit", csv, "--target", "label", *FAST, "--out", out)
    assert refused.exit_code == 2 and (out / "model.keras").read_bytes() == first
    done = invoke("fit", csv, "--target", "label", *FAST, "--out", out, "--overwrite", "--seed", "2")
    assert done.exit_code == 0 and set(os.listdir(out)) == FILES
    assert (out / "model.keras").read_bytes() != first
    assert json.loads((out / "metrics.json").read_text())["settings"]["seed"] == 2
    assert sorted(os.listdir(tmp_path)) == ["run"]  # no temporary folders left


def test_failure_while_writing_leaves_nothing(csv, tmp_path, monkeypatch):
    from kerasnet.runs import save

    def broken(run, folder):
        (open(os.path.join(folder, "model.keras"), "w")).close()
        raise RuntimeError("disk full")

    monkeypatch.setattr(save, "_fit_files", broken)
    result = invoke("fit", csv, "--target", "label", *FAST, "--out", tmp_path / "a" / "run")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "unexpected RuntimeError: disk full" in result.stderr
    assert "Traceback" not in result.stderr and "KERASNET_DEBUG=1" in result.stderr
    assert os.listdir(tmp_path) == []


def test_demo_narrows_the_gap(monkeypatch, tmp_path):
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import train_test_split

    from kerasnet.cli import demo
    from kerasnet.data import load_dataset

    # A shorter path than the real demo keeps the test quick; the comparison must still hold.
    monkeypatch.setitem(demo.SETTINGS, "n_lambdas", 8)
    monkeypatch.setitem(demo.SETTINGS, "epochs", 40)
    result = invoke("demo", "--out", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "demo"
    metrics = json.loads((folder / "metrics.json").read_text())
    runs = metrics["comparison"]
    plain, selected = runs["plain"], runs["1se"]
    assert selected["gap"] < plain["gap"]
    assert plain["lambda"] == 0 and selected["lambda"] > 0
    # The selection follows glmnet's rules on the saved path table.
    frame = pd.read_csv(folder / "path.csv")
    assert len(frame) == 8
    row = frame.loc[frame["selected"].str.contains("1se", na=False)].iloc[0]
    assert selected["lambda"] == pytest.approx(row["lambda"])
    assert selected["cv"] == pytest.approx([row["cv_deviance"], row["cv_deviance_se"]])
    best = frame["cv_deviance"].min()
    assert runs["min"]["cv"][0] == pytest.approx(best)
    assert selected["lambda"] >= runs["min"]["lambda"]
    assert row["cv_deviance"] <= best + frame.loc[frame["cv_deviance"].idxmin(), "cv_deviance_se"] + 1e-12
    # Held-out rows are sklearn's stratified split; the saved model scores them as the table says.
    frame_x, target = load_dataset("breast_cancer")
    labels = frame_x.pop(target)
    _, held = train_test_split(np.arange(len(labels)), test_size=demo.HELD_OUT, random_state=0,
                               stratify=labels.astype(str))
    held = np.sort(held)
    assert metrics["kind"] == "demo" and metrics["data"]["n_held_out"] == len(held)
    assert metrics["held_out"]["data_loss"] == selected["held_out"]["data_loss"]
    assert metrics["data"]["n_train"] == len(labels) - len(held)
    # The closing lines and the report set the network against the null and linear models.
    assert "Baselines on the same folds (CV deviance): null model" in result.output
    assert "At lambda_1se the network" in result.output
    assert metrics["path"]["baselines"]["linear_mean"] is not None
    assert "the null model (" in (folder / "report.html").read_text(encoding="utf-8")
    model = keras.saving.load_model(folder / "model.keras", safe_mode=True)
    pre = Preprocessor.load(folder / "preprocessing.json")
    p = model.predict(pre.transform(frame_x.iloc[held]), verbose=0)[:, 0]
    y_held = pre.encode_target(labels.iloc[held])
    assert selected["held_out"]["data_loss"] == pytest.approx(log_loss(y_held, p), rel=1e-4)
    assert selected["held_out"]["accuracy"] == pytest.approx(accuracy_score(y_held, p > 0.5))
    assert "narrows the train/held-out gap" in result.stdout
    assert "lambda_min" in result.stdout and "not cross-validated" in result.stdout
    # The report tells the same story: the three models on the held-out rows, side by side.
    report = (folder / "report.html").read_text()
    assert ">No penalty against lambda_min and lambda_1se</h2>" in report
    assert ">What to conclude</h2>" in report
    assert f"{plain['gap']:.3g} &rarr; {selected['gap']:.3g}" in report
    # The CV ran on the training rows only, and the report's data table says so, counted.
    assert f"5 folds of the {metrics['data']['n_train']} training rows" in report
    assert "held-out rows (set aside before anything was fit)" in report and ">validation" not in report
    curves = pd.read_csv(folder / "comparison_curves.csv")
    assert set(curves["model"]) == {"plain", "min", "1se"}
    assert (curves["model"] == "plain").sum() == int(metrics["path"]["refit_epochs"])


# --------------------------------------------------------------------------- bad input


@pytest.fixture
def bad_files(tmp_path):
    good = _table(20)
    files = {"good": good}
    nan = good.astype({"x2": float})
    nan.loc[[1, 4], "x1"] = np.nan
    nan.loc[2, "x2"] = np.inf
    files["nan"] = nan
    files["nan_target"] = good.assign(y=np.where(np.arange(20) == 3, np.nan, np.arange(20) % 2))
    files["one_class"] = good.assign(label="yes")
    files["dates"] = good.assign(day=pd.date_range("2024-01-01", periods=20).strftime("%Y-%m-%d"))
    files["text_target"] = good.assign(price=list("ab") * 10)
    paths = {}
    for name, frame in files.items():
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    paths["empty"] = tmp_path / "empty.csv"
    paths["empty"].write_text("")
    paths["header"] = tmp_path / "header.csv"
    paths["header"].write_text("x1,label\n")
    paths["folder"] = tmp_path / "folder.csv"
    paths["folder"].mkdir()
    paths["missing"] = tmp_path / "nope.csv"
    return paths


FIT_CASES = {
    "missing file": (["{missing}", "--target", "label"], "does not exist"),
    "unreadable file": (["{folder}", "--target", "label"], "is a folder"),
    "empty file": (["{empty}", "--target", "label"], "is empty"),
    "header only": (["{header}", "--target", "label"], "has no rows"),
    "missing target": (["{good}", "--target", "price"], "--target price is not a column of the data"),
    "no target": (["{good}"], "--target is required"),
    "one class": (["{one_class}", "--target", "label"], "has one class ('yes')"),
    "nan features": (["{nan}", "--target", "label"], "'x1' (2 missing/NaN), 'x2' (1 inf)"),
    "nan target": (["{nan_target}", "--target", "y"], "target contain missing or infinite values: 'y' (1"),
    "l1 text": (["{good}", "--target", "label", "--l1", "abc"], "'abc' is not a number"),
    "l1 negative": (
        ["{good}", "--target", "label", "--l1", "-0.1"],
        "'--l1': '-0.1' must be a finite number >= 0",
    ),
    "l2 nan": (["{good}", "--target", "label", "--l2", "nan"], "'--l2': 'nan' must be a finite number >= 0"),
    "hidden": (["{good}", "--target", "label", "--hidden", "64,,x"], "'64,,x' is not a list of layer sizes"),
    "hidden zero": (["{good}", "--target", "label", "--hidden", "64,0"], "is not a list of layer sizes"),
    "unknown dataset": (["--dataset", "mnist"], "unknown dataset 'mnist'"),
    "both data": (["{good}", "--target", "label", "--dataset", "iris"], "not both, not neither"),
    "neither data": ([], "not both, not neither"),
    "drop unknown": (
        ["{good}", "--target", "label", "--drop", "zzz"],
        "--drop names columns not in the data: zzz",
    ),
    "unknown option": (["{good}", "--target", "label", "--l3", "1"], "No such option '--l3'"),
    # The library's messages name arguments (drop='day', task='binary'); the command line, its flags.
    "dates": (["{dates}", "--target", "label"], "or leave the column out (--drop day)"),
    "text regression": (["{text_target}", "--target", "price", "--task", "regression"],
                        "use --task binary or --task multiclass"),
}


@pytest.mark.parametrize("case", list(FIT_CASES))
def test_fit_bad_input_is_one_line_exit_2_nothing_written(case, bad_files, tmp_path):
    args, message = FIT_CASES[case]
    args = [a.format(**bad_files) for a in args]
    before = sorted(os.listdir(tmp_path))
    result = invoke("fit", *args, "--out", tmp_path / "out" / "run")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("kerasnet: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert sorted(os.listdir(tmp_path)) == before  # no out folder, no temporary folder


def test_fit_refuses_non_empty_out_and_leaves_it_untouched(bad_files, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = invoke("fit", bad_files["good"], "--target", "label", "--out", out)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "already exists and is not empty" in result.stderr and "--overwrite" in result.stderr
    assert os.listdir(out) == ["notes.txt"] and (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda f: f.drop(columns=["x2", "color"]), "missing columns used in training: x2, color"),
        (lambda f: f.assign(color=["purple"] + ["red"] * (len(f) - 1)), "'color': purple"),
        (lambda f: f.assign(x1=np.nan), "'x1' (5 missing/NaN)"),
    ],
)
def test_predict_bad_data(edit, message, run_dir, tmp_path):
    path = tmp_path / "rows.csv"
    edit(_table(5)).to_csv(path, index=False)
    result = invoke("predict", run_dir, path, "--out", tmp_path / "preds.csv")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith("kerasnet: error: ") and message in result.stderr
    assert os.listdir(tmp_path) == ["rows.csv"]


def test_predict_needs_a_fit_folder(csv, tmp_path):
    result = invoke("predict", tmp_path, csv)
    assert result.exit_code == 2 and "model.keras is missing" in result.stderr


def test_main_returns_exit_codes_for_usage_errors():
    from kerasnet.cli import main

    with pytest.raises(SystemExit) as done:
        main(["fit", "--epochs", "zero"])
    assert done.value.code == 2


@pytest.mark.slow
def test_full_demo_narrows_the_gap():
    result = invoke("demo")
    assert result.exit_code == 0, result.output
    assert "lambda_1se = " in result.stdout and "narrows the train/held-out gap" in result.stdout
