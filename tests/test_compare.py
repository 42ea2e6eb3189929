"""kerasnet compare: four variants on the same rows, a held-out test split, training-row preprocessing."""

import json
import os
import re
import shutil

import keras
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli
from kerasnet.data import Preprocessor, split_rows

FAST = ["--epochs", "3", "--hidden", "4", "--batch-size", "64"]
FOLDERS = {"no penalty": "no_penalty", "L1": "l1", "L2": "l2", "L1-L2": "l1_l2"}


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _frame(n=100, seed=1):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(loc=3.0, size=n)
    return pd.DataFrame({
        "x1": x1,
        "x2": rng.normal(size=n),
        "label": np.where(x1 - 3 + rng.normal(scale=0.5, size=n) > 0, "a", "b"),
    })


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    csv = tmp_path_factory.mktemp("data") / "t.csv"
    _frame().to_csv(csv, index=False)
    out = tmp_path_factory.mktemp("runs") / "cmp"
    result = invoke("compare", csv, "--target", "label", "--l1", "1e-3", "--l2", "1e-2", *FAST, "--out", out)
    assert result.exit_code == 0, result.output
    return csv, out, result.output


def test_four_runs_and_a_report(compared):
    _, out, output = compared
    assert {"metrics.json", "report.html", "compare.png", "compare_weights.png", *FOLDERS.values()} <= set(
        os.listdir(out))
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["kind"] == "compare" and list(summary["variants"]) == list(FOLDERS)
    expected = {"no penalty": (0, 0), "L1": (1e-3, 0), "L2": (0, 1e-2), "L1-L2": (1e-3, 1e-2)}
    for name, (l1, l2) in expected.items():
        v = summary["variants"][name]
        assert (v["l1"], v["l2"]) == (l1, l2)
        sub = json.loads((out / FOLDERS[name] / "metrics.json").read_text())
        assert sub["settings"]["l1"] == l1 and sub["settings"]["l2"] == l2
        assert (sub["train"]["penalty"] == 0) == (l1 == l2 == 0)
    assert "given on the command line" in output and "test accuracy" in output
    text = (out / "report.html").read_text()
    assert "No penalty vs L1 vs L2 vs L1-L2" in text and text.count("data:image/png;base64,") == 2


def test_test_split_is_held_out_and_preprocessing_uses_training_rows(compared):
    csv, out, _ = compared
    frame = _frame()
    y = frame["label"]
    rest, test = split_rows(len(y), 0.2, y=y, task="binary", seed=0)
    train, _ = split_rows(len(rest), 0.2, y=y.iloc[rest], task="binary", seed=0)
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["data"]["n_test"] == len(test) == 20
    assert summary["data"]["n_train"] + summary["data"]["n_validation"] == len(rest)
    for folder in FOLDERS.values():
        pre = Preprocessor.load(out / folder / "preprocessing.json")
        x1 = next(c for c in pre.columns_ if c["name"] == "x1")
        # Statistics of the training rows only: not of all rows, not of training + validation.
        assert x1["mean"] == pytest.approx(frame["x1"].iloc[rest[train]].mean(), rel=1e-12)
        assert x1["mean"] != pytest.approx(frame["x1"].mean(), rel=1e-6)
    # The test score is the saved model's accuracy on exactly the held-out rows.
    pre = Preprocessor.load(out / "l1_l2" / "preprocessing.json")
    model = keras.saving.load_model(out / "l1_l2" / "model.keras")
    proba = model.predict(pre.transform(frame.iloc[test]), verbose=0)[:, 0]
    accuracy = float(np.mean((proba > 0.5) == pre.encode_target(y.iloc[test])))
    assert summary["variants"]["L1-L2"]["test"]["accuracy"] == pytest.approx(accuracy, abs=1e-6)


def test_default_strengths_are_stated(tmp_path):
    csv = tmp_path / "t.csv"
    _frame(60).to_csv(csv, index=False)
    out = tmp_path / "o"
    result = invoke("compare", csv, "--target", "label", "--choose", "default", *FAST, "--out", out)
    assert result.exit_code == 0, result.output
    assert "Default strengths (--choose default): l1=0.001, l2=0.01" in result.output
    summary = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert summary["settings"]["choose"] == "default" and summary["variants"]["L1-L2"]["l2"] == 0.01


def test_proximal_gives_exact_zeros_only_where_there_is_l1(tmp_path):
    csv = tmp_path / "t.csv"
    _frame(60).to_csv(csv, index=False)
    out = tmp_path / "o"
    result = invoke("compare", csv, "--target", "label", "--l1", "0.5", "--l2", "1e-2", "--proximal",
                    "--learning-rate", "0.1", "--epochs", "2", "--hidden", "4", "--batch-size", "16",
                    "--out", out)
    assert result.exit_code == 0, result.output
    v = json.loads((out / "metrics.json").read_text())["variants"]
    assert v["L1"]["train"]["sparsity"] > 0.3 and v["L1-L2"]["train"]["sparsity"] > 0.3
    assert v["no penalty"]["train"]["sparsity"] == 0 and v["L2"]["train"]["sparsity"] == 0
    # The reported penalty is the whole objective's: L1 (applied by the step) plus L2.
    import keras

    model = keras.saving.load_model(out / "l1" / "model.keras")
    l1_norm = sum(float(np.abs(w).sum()) for w in model.get_weights()[0::2])
    assert v["L1"]["train"]["penalty"] == pytest.approx(0.5 * l1_norm, rel=1e-4)


@pytest.mark.slow
def test_strengths_from_the_path(tmp_path):
    result = invoke("compare", "--dataset", "iris", "--epochs", "5", "--hidden", "8", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert "quick CV paths" in result.output
    v = json.loads((tmp_path / "o" / "metrics.json").read_text())["variants"]
    assert v["L1"]["l1"] > 0 and v["L1"]["l2"] == 0 and v["L2"]["l1"] == 0 and v["L2"]["l2"] > 0
    assert v["L1-L2"]["l1"] == pytest.approx(2 * v["L1-L2"]["l2"])  # l1_ratio 0.5


def test_default_strengths_are_the_quick_paths_lambda_1se(tmp_path, monkeypatch):
    """Without --l1/--l2 each variant's strength is its quick CV path's lambda_1se, split by l1_ratio."""
    import kerasnet.path
    from kerasnet.cli import compare

    real, paths = kerasnet.path.fit_path, []

    def spy(X, y, **kw):
        paths.append((len(X), kw, real(X, y, **kw)))
        return paths[-1][2]

    monkeypatch.setattr(kerasnet.path, "fit_path", spy)
    monkeypatch.setitem(compare.PATH_SETTINGS, "n_lambdas", 5)
    monkeypatch.setitem(compare.PATH_SETTINGS, "cv", 2)
    csv = tmp_path / "t.csv"
    _frame(60).to_csv(csv, index=False)
    result = invoke("compare", csv, "--target", "label", "--epochs", "20", "--hidden", "4",
                    "--batch-size", "16", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert "quick CV paths" in result.output
    summary = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert summary["settings"]["choose"] == "path" and summary["settings"]["select"] == "1se"
    assert [kw["l1_ratio"] for _, kw, _ in paths] == [1.0, 0.0, 0.5]
    differ = []
    for (n_rows, kw, path), name in zip(paths, ["L1", "L2", "L1-L2"], strict=True):
        assert n_rows == 48 and kw["seed"] == 0  # the non-test rows only (60 - 20% test)
        # glmnet's lambda.1se, from the path's CV table (deviance: lower is better; folds
        # weighted by their rows, cvsd = sqrt(weighted mean squared deviation / (folds - 1))).
        scores, w = path.cv_scores_, path.fold_weights_
        mean = (scores * w).sum(axis=1) / w.sum()
        se = np.sqrt(((scores - mean[:, None]) ** 2 * w).sum(axis=1) / w.sum() / (scores.shape[1] - 1))
        best = int(np.argmin(mean))
        lam = path.lambdas_[np.flatnonzero(mean <= mean[best] + se[best])[0]]
        ratio = kw["l1_ratio"]
        v = summary["variants"][name]
        assert v["lambda"] == pytest.approx(lam)
        assert v["l1"] == pytest.approx(ratio * lam) and v["l2"] == pytest.approx((1 - ratio) / 2 * lam)
        sub = json.loads((tmp_path / "o" / FOLDERS[name] / "metrics.json").read_text())
        assert (sub["settings"]["l1"], sub["settings"]["l2"]) == (v["l1"], v["l2"])
        differ.append(lam != path.lambdas_[best])
    assert any(differ)  # lambda_1se is not lambda_min on some path: the rule matters here


@pytest.mark.parametrize("args, message", [
    (["--l1", "1e-3"], "give both --l1 and --l2"),
    (["--l2", "-1", "--l1", "0"], "--l2"),
    (["--test-split", "0"], "--test-split"),
])
def test_bad_input_is_one_line_exit_2(args, message, tmp_path):
    result = invoke("compare", "--dataset", "iris", *args, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert message in result.output and result.output.strip().count("\n") == 0
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (Debian: apt-get "
                    "install chromium); the browser check of report.html needs it")
def test_compare_report_figures_load_in_headless_chromium(compared, tmp_path):
    from test_report import _render

    _, out, _ = compared
    dom = _render(out / "report.html", tmp_path)
    loaded = json.loads(re.search(r'data-probe="([^"]*)"', dom).group(1).replace("&quot;", '"'))
    assert len(loaded) == 2 and all(ok and width >= 300 for ok, width, _ in loaded), loaded


def test_the_report_opens_with_what_to_conclude_from_paired_test_losses(compared):
    """The conclusion's numbers are the test rows' own: each saved model's log loss row by row on the
    test split, the best variant's, and each other's difference to it with its paired standard
    error (sd of the row differences / sqrt(n)), all recomputed here from the files."""
    _, out, _ = compared
    frame = _frame()
    y = frame["label"]
    _, test = split_rows(len(y), 0.2, y=y, task="binary", seed=0)
    losses = {}
    for name, folder in FOLDERS.items():
        pre = Preprocessor.load(out / folder / "preprocessing.json")
        model = keras.saving.load_model(out / folder / "model.keras")
        p = np.clip(model.predict(pre.transform(frame.iloc[test]), verbose=0)[:, 0], 1e-7, 1 - 1e-7)
        t = pre.encode_target(y.iloc[test])
        losses[name] = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    found = json.loads((out / "metrics.json").read_text())["test_differences"]
    best = found["best"]  # the lowest mean (variants a float32 rounding apart may swap places)
    assert losses[best].mean() <= min(v.mean() for v in losses.values()) + 1e-6
    assert found["n_rows"] == len(test)
    text = (out / "report.html").read_text()
    assert text.index(">What to conclude</h2>") < text.index(">Data</h2>")  # it opens the report
    head = text[text.index(">What to conclude</h2>"):text.index(">Data</h2>")]
    assert f"<b>{best}</b> has the lowest data loss, {losses[best].mean():.4g}" in head
    for name in FOLDERS:
        if name != best:
            d = losses[name] - losses[best]
            row = found["variants"][name]
            assert row["difference"] == pytest.approx(d.mean(), rel=1e-2, abs=1e-6)
            assert row["se"] == pytest.approx(d.std(ddof=1) / np.sqrt(len(d)), rel=1e-2, abs=1e-6)
            assert f"{name} +{row['difference']:.3g} &plusmn; {row['se']:.2g}" in head
    assert "standard errors of it" in head or "can defend" in head

