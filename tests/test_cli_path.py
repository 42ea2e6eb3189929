"""``kerasnet path``: the table, the files, and a selected model that predict can use."""

import io
import json
import os

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli.path import command

FAST = ["--epochs", "30", "--hidden", "4", "--batch-size", "32", "--learning-rate", "1e-2",
        "--n-lambdas", "4", "--cv", "3"]


def _table(n=90, seed=0, noise=0.5):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    return pd.DataFrame({
        "x1": x1, "x2": rng.normal(size=n), "color": rng.choice(["red", "green", "blue"], n),
        "label": np.where(x1 + rng.normal(scale=noise, size=n) > 0, "yes", "no"),
    })


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    data = tmp_path_factory.mktemp("data") / "train.csv"
    _table().to_csv(data, index=False)
    out = tmp_path_factory.mktemp("runs") / "path"
    # 80 epochs of 2 steps: enough for the selected model to be useful on fresh rows whatever the init.
    result = CliRunner().invoke(command, [str(data), "--target", "label", *FAST, "--epochs", "80", "--select",
                                          "min", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_path_writes_files_and_table(run):
    out, output = run
    files = {"model.keras", "preprocessing.json", "path.csv", "metrics.json", "path.png"}
    assert files <= set(os.listdir(out))
    frame = pd.read_csv(out / "path.csv")
    assert len(frame) == 4 and frame["lambda"].is_monotonic_decreasing
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["kind"] == "path" and metrics["path"]["selected"] == "min"
    assert metrics["path"]["lambda_selected"] == pytest.approx(metrics["path"]["lambda_min"])
    assert frame.loc[frame["cv_deviance"].idxmin(), "lambda"] == pytest.approx(metrics["path"]["lambda_min"])
    assert metrics["path"]["measure"] == "deviance" and "cv_class" in frame
    assert "lambda_min" in output and "CV deviance" in output


def test_selected_model_predicts_raw_rows(run):
    import keras

    from kerasnet.data import Preprocessor

    out, _ = run
    table = _table(seed=1)
    pre = Preprocessor.load(out / "preprocessing.json")
    model = keras.saving.load_model(out / "model.keras", safe_mode=True, compile=False)
    prob = model.predict(pre.transform(table.drop(columns="label")), verbose=0)[:, 0]
    assert ((prob > 0.5) == (table["label"] == "yes")).mean() > 0.7


def test_bad_input_exits_2(tmp_path):
    args = ["--dataset", "breast_cancer", "--cv", "1", "--out", str(tmp_path / "x")]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 2


def test_scheduler_without_dask_is_one_line_exit_2(monkeypatch, tmp_path):
    import sys

    from kerasnet.cli import cli

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if the extra were not installed
    args = ["path", "--dataset", "iris", "--scheduler", "tcp://127.0.0.1:8786", "--out", str(tmp_path / "x")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "kerasnet[dask]" in lines[0] and lines[0].startswith("kerasnet: error:")
    assert not (tmp_path / "x").exists()


def test_scheduler_gives_the_local_path(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    data = tmp_path / "train.csv"
    _table().to_csv(data, index=False)
    args = [str(data), "--target", "label", *FAST, "--n-lambdas", "3", "--cv", "2", "--epochs", "8"]
    local = CliRunner().invoke(command, [*args, "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    # An in-process cluster: this test is about the command line's --scheduler (the address reaches
    # fit_path and metrics.json, the same path comes back); the members sent to separate worker
    # processes are tests/test_distributed.py's (a LocalCluster with processes=True).
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        remote = CliRunner().invoke(command, [*args, "--scheduler", cluster.scheduler_address,
                                              "--out", str(tmp_path / "remote")])
    assert remote.exit_code == 0, remote.output
    a, b = (pd.read_csv(tmp_path / name / "path.csv") for name in ("local", "remote"))
    assert len(a) == 3
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-5, atol=1e-6)
    metrics = json.loads((tmp_path / "remote" / "metrics.json").read_text())
    assert metrics["settings"]["scheduler"] == cluster.scheduler_address


def test_unreachable_scheduler_is_one_line_exit_2(tmp_path):
    pytest.importorskip("dask.distributed")
    from kerasnet.cli import cli

    args = ["path", "--dataset", "iris", *FAST, "--n-lambdas", "2", "--cv", "2", "--epochs", "1",
            "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "x")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert "cannot reach the Dask scheduler" in lines[-1] and lines[-1].startswith("kerasnet: error:")
    assert not (tmp_path / "x").exists()


def _kernels(folder):
    import keras

    model = keras.saving.load_model(folder / "model.keras", safe_mode=True, compile=False)
    return model, [layer.get_weights()[0] for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def test_default_select_saves_the_lambda_1se_model(tmp_path):
    data = tmp_path / "train.csv"
    _table(noise=0.5).to_csv(data, index=False)
    out = tmp_path / "default"
    args = [str(data), "--target", "label", *FAST, "--n-lambdas", "6", "--out", str(out)]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())["path"]
    frame = pd.read_csv(out / "path.csv")
    # glmnet's rule on the CV table: the largest lambda within one SE of the best mean deviance.
    score, se = frame["cv_deviance"].to_numpy(), frame["cv_deviance_se"].to_numpy()
    best = int(np.argmin(score))  # lambdas descend: the first minimum is the largest strength
    one_se = int(np.flatnonzero(score <= score[best] + se[best])[0])
    assert one_se != best  # this data and seed make the two rules differ
    assert metrics["selected"] == "1se"
    assert metrics["lambda_1se"] == pytest.approx(frame["lambda"][one_se])
    assert metrics["lambda_min"] == pytest.approx(frame["lambda"][best])
    assert metrics["lambda_selected"] == pytest.approx(frame["lambda"][one_se])
    assert frame["selected"][one_se] == "1se" and frame["selected"][best] == "min"
    # model.keras is the refit model of that row: its penalty strengths and its weights.
    model, kernels = _kernels(out)
    reg = model.get_layer("hidden_1").kernel_regularizer
    lam = frame["lambda"][one_se]
    assert reg.l1 == pytest.approx(0.5 * lam) and reg.l2 == pytest.approx(0.25 * lam)  # l1_ratio 0.5
    norm = sum(float(np.abs(k).sum()) for k in kernels)
    assert norm == pytest.approx(frame["weight_norm"][one_se], rel=1e-5)
    assert norm != pytest.approx(frame["weight_norm"][best], rel=1e-3)


def test_proximal_path_writes_exact_zeros(tmp_path):
    data = tmp_path / "train.csv"
    _table().to_csv(data, index=False)
    out = tmp_path / "proximal"
    # Six strengths: lambda_1se lands between the all-zero top and the dense bottom of the path.
    args = [str(data), "--target", "label", *FAST, "--cv", "2", "--n-lambdas", "6", "--proximal",
            "--out", str(out)]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    frame = pd.read_csv(out / "path.csv")
    assert metrics["settings"]["proximal"] is True
    # lambda_max: (almost) all zero; the refit takes the folds' number of optimizer steps, which
    # with 2 folds is half as many epochs on all rows.
    assert frame["sparsity"][0] > 0.9 and frame["sparsity"][0] > frame["sparsity"].iloc[-1] + 0.4
    assert frame["sparsity"].is_monotonic_decreasing and frame["sparsity"].iloc[-1] < 0.5
    # The saved (selected) model holds exactly the zeros its row reports.
    _, kernels = _kernels(out)
    zeros = np.mean(np.concatenate([k.ravel() for k in kernels]) == 0)
    chosen = int(np.flatnonzero(np.isclose(frame["lambda"], metrics["path"]["lambda_selected"]))[0])
    assert zeros == pytest.approx(frame["sparsity"][chosen]) == pytest.approx(metrics["path"]["sparsity"])
    assert zeros > 0  # without --proximal a path model has no exact zeros
    assert int((np.abs(kernels[0]).sum(axis=1) > 0).sum()) == frame["n_features"][chosen]


def test_penalty_factor_and_exclude_reach_the_path(tmp_path):
    data = tmp_path / "train.csv"
    _table().to_csv(data, index=False)
    out = tmp_path / "weighted"
    args = [str(data), "--target", "label", *FAST, "--penalty-factor", "x1=0.5", "--exclude", "color",
            "--out", str(out)]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["settings"]["penalty_factor"] == ["x1=0.5"] and metrics["settings"]["exclude"] == ["color"]
    _, kernels = _kernels(out)
    # Features: x1, x2, then color's three one-hot columns, all left out at every strength.
    assert np.all(kernels[0][2:] == 0) and np.any(kernels[0][:2] != 0)


@pytest.mark.parametrize("flags, words", [
    (["--penalty-factor", "x1"], "COLUMN=FACTOR"),
    (["--penalty-factor", "x1=-2"], "COLUMN=FACTOR"),
    (["--exclude", "nope"], "does not have: 'nope'"),
    (["--exclude", "x1", "--feature-selection"], "leave out --feature-selection"),
])
def test_bad_penalty_factor_flags_are_one_line(tmp_path, flags, words):
    data = tmp_path / "train.csv"
    _table().to_csv(data, index=False)
    from kerasnet.cli import cli

    result = CliRunner().invoke(cli, ["path", str(data), "--target", "label", *FAST, *flags, "--out",
                                      str(tmp_path / "run")])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and words in lines[0], result.output
    assert lines[0].startswith("kerasnet: error:") and not (tmp_path / "run").exists()


def test_poisson_path_with_an_offset_column(tmp_path):
    rng = np.random.default_rng(5)
    n = 150
    x1, exposure = rng.normal(size=n), rng.uniform(0.5, 2.0, size=n)
    table = pd.DataFrame({"x1": x1, "x2": rng.normal(size=n), "log_exposure": np.log(exposure),
                          "claims": rng.poisson(exposure * np.exp(0.3 + 0.8 * x1))})
    data = tmp_path / "claims.csv"
    table.to_csv(data, index=False)
    out = tmp_path / "poisson"
    result = CliRunner().invoke(command, [str(data), "--target", "claims", *FAST, "--task", "poisson",
                                          "--offset-column", "log_exposure", "--out", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "poisson" and metrics["settings"]["offset_column"] == "log_exposure"
    assert metrics["n_features"] == 2  # the offset is not a feature
    from kerasnet.data import Preprocessor

    model, _ = _kernels(out)
    pre = Preprocessor.load(out / "preprocessing.json")  # the model takes the encoded rows
    rates = model.predict(pre.transform(table), verbose=0)[:, 0]
    assert np.all(rates > 0) and np.corrcoef(rates, x1)[0, 1] > 0.5  # the rate grows with x1
    from kerasnet.cli import cli

    # predict: the expected counts, rate * exposure, from the data's offset column.
    predicted = CliRunner().invoke(cli, ["predict", str(out), str(data)])
    assert predicted.exit_code == 0, predicted.output
    counts = pd.read_csv(io.StringIO(predicted.output))["predicted_claims"].to_numpy()
    np.testing.assert_allclose(counts, rates * np.exp(table["log_exposure"]), rtol=1e-4)
    table.drop(columns=["log_exposure"]).to_csv(tmp_path / "no_offset.csv", index=False)
    missing = CliRunner().invoke(cli, ["predict", str(out), str(tmp_path / "no_offset.csv")])
    assert missing.exit_code == 2 and "offset column 'log_exposure'" in missing.output
    bad = CliRunner().invoke(cli, ["path", str(data), "--target", "claims", "--offset-column", "log_exposure",
                                   "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "add --task poisson" in bad.output and not (tmp_path / "bad").exists()
