"""kerasnet fit --proximal / --group-lasso / --prune: exact zeros, fewer features, a smaller drop-in model."""

import json
import os
import re
import subprocess
import sys
import textwrap
from io import StringIO

import keras
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli
from kerasnet.cli.fit import metrics_table
from kerasnet.data import Preprocessor, load_dataset, split_features_target, split_rows

# Large steps and strong strengths so a few full epochs give many exact zeros.
FAST = ["--dataset", "breast_cancer", "--hidden", "8", "--epochs", "8", "--batch-size", "64",
        "--learning-rate", "1e-2", "--l1", "3e-3"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def proximal_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "proximal"
    result = invoke("fit", *FAST, "--proximal", "--out", out)
    assert result.exit_code == 0, result.output
    return out, result.stdout


@pytest.fixture(scope="module")
def pruned_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "pruned"
    result = invoke("fit", *FAST, "--proximal", "--group-lasso", "0.2", "--prune", "--out", out)
    assert result.exit_code == 0, result.output
    return out, result.stdout


def _kernels(path):
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    return [np.asarray(keras.ops.convert_to_numpy(layer.kernel)) for layer in model.layers]


def test_proximal_gives_exact_zeros_in_metrics_file_and_table(proximal_run):
    out, stdout = proximal_run
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["settings"]["proximal"] is True and "file" not in metrics["prune"]
    kernels = _kernels(out / "model.keras")  # plain L1L2 file: the zeros survive saving
    zeros = sum(int((k == 0).sum()) for k in kernels) / sum(k.size for k in kernels)
    assert zeros > 0.1
    assert metrics["validation"]["sparsity"] == pytest.approx(zeros)
    assert not (out / "model_pruned.keras").exists()
    shown = re.search(r"validation.*?(\d+\.\d)%", stdout)
    assert float(shown.group(1)) == pytest.approx(100 * zeros, abs=0.06)
    assert re.search(r"features kept\W+\d+ / 30", stdout)
    assert re.search(r"units kept hidden_1\W+\d+ / 8", stdout)
    before, after = metrics["prune"]["params_before"], metrics["prune"]["params_after"]
    assert before == 30 * 8 + 8 + 9 and f"{before} -> {after}" in stdout


def test_group_lasso_drops_whole_features(pruned_run):
    out, stdout = pruned_run
    metrics = json.loads((out / "metrics.json").read_text())
    kept = metrics["features_kept"]
    assert kept["n_features"] == 30 and kept["n_kept"] < 30
    first = _kernels(out / "model.keras")[0]  # loads once kerasnet is imported (GroupLasso)
    assert np.flatnonzero(np.any(first != 0, axis=1)).tolist() == kept["indices"]
    names = Preprocessor.load(out / "preprocessing.json").feature_names_
    assert kept["names"] == [names[i] for i in kept["indices"]]
    assert f"features kept │ {kept['n_kept']:>6} / 30".replace(" ", "") in stdout.replace(" ", "")
    html = (out / "report.html").read_text()
    assert "Features kept" in html and "Pruned model" in html and "model_pruned.keras" in html


def test_prune_file_is_a_drop_in_replacement(pruned_run, tmp_path):
    out, _ = pruned_run
    metrics = json.loads((out / "metrics.json").read_text())
    info = metrics["prune"]
    assert info["file"] == "model_pruned.keras" and info["params_before"] > info["params_after"]
    assert info["kept_features"] == metrics["features_kept"]["indices"]
    assert info["max_abs_difference"] < 1e-5
    # The validation rows of the run, from the same stratified split.
    features, y = split_features_target(*load_dataset("breast_cancer"))
    _, valid = split_rows(len(y), 0.2, y=y, task="binary", seed=0)
    x = Preprocessor.load(out / "preprocessing.json").transform(features.iloc[valid])
    np.save(tmp_path / "x.npy", x)
    script = textwrap.dedent(
        f"""
        import numpy as np, keras, kerasnet
        x = np.load({str(tmp_path / "x.npy")!r})
        full = keras.saving.load_model({str(out / "model.keras")!r}, safe_mode=True)
        small = keras.saving.load_model({str(out / "model_pruned.keras")!r}, safe_mode=True)
        assert small.count_params() == {info["params_after"]}
        np.save({str(tmp_path / "full.npy")!r}, full.predict(x, verbose=0))
        np.save({str(tmp_path / "small.npy")!r}, small.predict(x, verbose=0))
        """
    )
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    full, small = np.load(tmp_path / "full.npy"), np.load(tmp_path / "small.npy")
    assert full.shape == (len(valid), 1)
    np.testing.assert_allclose(small, full, rtol=0, atol=1e-5)


def test_predict_pruned_equals_predict(pruned_run, proximal_run, tmp_path):
    out, _ = pruned_run
    frame, target = load_dataset("breast_cancer")
    path = tmp_path / "rows.csv"
    frame.drop(columns=target).iloc[:40].to_csv(path, index=False)
    full, small = invoke("predict", out, path), invoke("predict", out, path, "--pruned")
    assert full.exit_code == 0 and small.exit_code == 0, full.output + small.output
    full, small = pd.read_csv(StringIO(full.stdout)), pd.read_csv(StringIO(small.stdout))
    assert list(small.columns) == list(full.columns)
    pd.testing.assert_frame_equal(small.select_dtypes("number"), full.select_dtypes("number"), atol=1e-5)

    absent = invoke("predict", proximal_run[0], path, "--pruned")
    assert absent.exit_code == 2 and absent.stderr.count("\n") == 1, absent.output
    assert "has no model_pruned.keras" in absent.stderr and "--prune" in absent.stderr


@pytest.mark.parametrize("value", ["-1", "abc", "nan"])
def test_bad_group_lasso_is_one_line_exit_2_nothing_written(value, tmp_path):
    result = invoke("fit", *FAST, "--group-lasso", value, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("kerasnet: error: ")
    assert "--group-lasso" in result.stderr and repr(value) in result.stderr
    assert os.listdir(tmp_path) == []


def test_table_without_sparsity_options_is_unchanged():
    row = {"n_rows": 5, "loss": 1.0, "data_loss": 0.9, "penalty": 0.1, "accuracy": 0.8, "sparsity": 0.0}
    table = metrics_table({"task": "binary", "train": row, "validation": None})
    assert table.row_count == 1 and len(table.columns) == 7
