"""The command line has what the API has: column flags, --lambdas, --quiet, and help on every option."""

import json

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli

TINY = ["--epochs", "2", "--hidden", "4", "--batch-size", "16", "--learning-rate", "1e-2"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 40
    x1 = rng.normal(size=n)
    frame = pd.DataFrame({"x1": x1, "x2": rng.normal(size=n), "w": rng.uniform(0.5, 2.0, n),
                          "fold": np.where(np.arange(n) % 2 == 0, "even", "odd"), "site": np.arange(n) % 5,
                          "label": np.where(x1 + rng.normal(scale=0.5, size=n) > 0, "yes", "no")})
    path = tmp_path_factory.mktemp("data") / "train.csv"
    frame.to_csv(path, index=False)
    return path, frame


def _spy(monkeypatch, name):
    """Replace kerasnet.path's ``name`` by a spy that records its call and stops the command."""
    import kerasnet.path

    seen = {}

    def fake(X, y, **kwargs):
        seen.update(kwargs, X=X, y=y)
        raise KeyboardInterrupt  # nothing is written: the command exits 130

    monkeypatch.setattr(kerasnet.path, name, fake)
    return seen


def test_every_option_of_every_command_has_help():
    missing = [f"{name} {param.opts[0]}" for name, command in cli.commands.items() for param in command.params
               if isinstance(param, click.Option) and not (param.help or "").strip()]
    assert missing == []


def test_path_column_flags_and_lambdas_reach_fit_path(data, tmp_path, monkeypatch):
    path, frame = data
    seen = _spy(monkeypatch, "fit_path")
    result = invoke("path", path, "--target", "label", "--weights-column", "w", "--foldid-column", "fold",
                    "--groups-column", "site", "--lambdas", "0.1,0.01", "--quiet", "--out", tmp_path / "run")
    assert result.exit_code == 130, result.output
    np.testing.assert_allclose(seen["sample_weight"], frame["w"])
    # The folds and groups as the column's labels: equal labels, equal codes, and no others.
    assert pd.crosstab(seen["foldid"], frame["fold"]).to_numpy().tolist() == [[20, 0], [0, 20]]
    assert len(set(zip(seen["groups"], frame["site"], strict=True))) == frame["site"].nunique() == 5
    assert seen["lambdas"] == (0.1, 0.01) and seen["verbose"] == 0
    assert list(seen["X"].columns) == ["x1", "x2"]  # the three columns are no features
    assert not (tmp_path / "run").exists()


def test_path_without_the_flags_passes_none(data, tmp_path, monkeypatch):
    path, _ = data
    seen = _spy(monkeypatch, "fit_path")
    invoke("path", path, "--target", "label", "--drop", "w,fold,site", "--out", tmp_path / "run")
    assert [seen[k] for k in ("sample_weight", "foldid", "groups", "lambdas")] == [None] * 4
    assert seen["verbose"] == 1


def test_select_weights_column_and_lambdas_reach_stability_selection(data, tmp_path, monkeypatch):
    path, frame = data
    seen = _spy(monkeypatch, "stability_selection")
    result = invoke("select", path, "--target", "label", "--drop", "fold,site", "--weights-column", "w",
                    "--lambdas", "0.3,0.1", "--quiet", "--out", tmp_path / "run")
    assert result.exit_code == 130, result.output
    np.testing.assert_allclose(seen["sample_weight"], frame["w"])
    assert seen["lambdas"] == (0.3, 0.1) and seen["verbose"] == 0
    assert list(seen["X"].columns) == ["x1", "x2"]


@pytest.mark.parametrize("value", ["0.1,abc", "0.1,-1", "0,0.1", "nan", "0.1,,0.01", "0.1,0.1", "inf"])
def test_bad_lambdas_are_one_line_exit_2(data, tmp_path, value):
    path, _ = data
    result = invoke("path", path, "--target", "label", "--lambdas", value, "--out", tmp_path / "run")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "--lambdas" in result.stderr
    assert "such as 0.1,0.01,0.001" in result.stderr or "repeats" in result.stderr


@pytest.mark.parametrize(("flags", "words"), [
    (["--weights-column", "x2"], "finite weight >= 0"),  # x2 has negative values
    (["--foldid-column", "fold", "--groups-column", "fold"], "same column twice"),
    (["--foldid-column", "label"], "the target (--target)"),
])
def test_bad_column_flags_are_one_line_exit_2(data, tmp_path, flags, words):
    path, _ = data
    result = invoke("path", path, "--target", "label", *flags, "--out", tmp_path / "run")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert words in result.stderr
    assert not (tmp_path / "run").exists()


def test_foldid_column_of_two_labels_gives_a_two_fold_path(data, tmp_path):
    path, _ = data
    out = tmp_path / "run"
    result = invoke("path", path, "--target", "label", "--foldid-column", "fold", "--weights-column", "w",
                    "--drop", "site", "--lambdas", "0.1,0.01", *TINY, "--quiet", "--out", out)
    assert result.exit_code == 0, result.output
    assert "2-fold CV" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["settings"]["cv"] == 2 and metrics["settings"]["foldid_column"] == "fold"
    table = pd.read_csv(out / "path.csv")
    np.testing.assert_allclose(table["lambda"], [0.1, 0.01])
    assert table["n_features"].max() <= 2  # x1, x2: the weights and the folds are no features
    assert "CV" not in result.stderr  # --quiet: no progress lines


def test_fit_quiet_prints_no_epoch_lines(data, tmp_path):
    path, _ = data
    args = ["fit", path, "--target", "label", "--drop", "w,fold,site", *TINY]
    loud = invoke(*args, "--out", tmp_path / "loud")
    quiet = invoke(*args, "--quiet", "--out", tmp_path / "quiet")
    assert loud.exit_code == quiet.exit_code == 0, loud.output + quiet.output
    assert "Epoch 2/2" in loud.output
    assert "Epoch" not in quiet.output and "saved" in quiet.output


def test_fit_weights_column_reaches_train(data, tmp_path, monkeypatch):
    import kerasnet.runs

    path, frame = data
    seen = {}

    def fake(features, y, **kwargs):
        seen.update(kwargs, features=features)
        raise KeyboardInterrupt

    monkeypatch.setattr(kerasnet.runs, "train", fake)
    result = invoke("fit", path, "--target", "label", "--drop", "fold,site", "--weights-column", "w",
                    "--out", tmp_path / "run")
    assert result.exit_code == 130, result.output
    np.testing.assert_allclose(seen["sample_weight"], frame["w"])
    assert list(seen["features"].columns) == ["x1", "x2"]


def test_train_weights_are_scaled_to_mean_one_and_weigh_the_rows(data):
    """Equal weights of any size train exactly as no weights (scaled to mean 1); unequal ones do not."""
    from kerasnet.runs import train

    _, frame = data
    features, y = frame[["x1", "x2"]], frame["label"]
    kw = {"hidden": (4,), "epochs": 2, "batch_size": 16, "seed": 0, "verbose": 0}
    plain = train(features, y, **kw).metrics
    equal = train(features, y, sample_weight=np.full(len(y), 3.0), **kw).metrics
    unequal = train(features, y, sample_weight=frame["w"].to_numpy(), **kw).metrics
    for split in ("train", "validation"):
        assert equal[split]["data_loss"] == pytest.approx(plain[split]["data_loss"], rel=1e-5)
    assert unequal["train"]["data_loss"] != pytest.approx(plain["train"]["data_loss"], rel=1e-5)


AUTO = ("--batch-size", "auto", "--patience", "AUTO")


@pytest.mark.parametrize("given, expected", [((), (None, None)), (AUTO, (None, None)),
                                             (("--batch-size", "8", "--patience", "3"), (8, 3))])
def test_path_batch_size_and_patience_default_to_the_row_count_rule(data, tmp_path, monkeypatch, given,
                                                                    expected):
    path, _ = data
    seen = _spy(monkeypatch, "fit_path")
    result = invoke("path", path, "--target", "label", "--quiet", "--out", tmp_path / "run", *given)
    assert result.exit_code == 130, result.output
    assert (seen["batch_size"], seen["patience"]) == expected


def test_path_refuses_a_batch_size_that_is_neither_a_count_nor_auto(data, tmp_path):
    path, _ = data
    result = invoke("path", path, "--target", "label", "--batch-size", "many", "--out", tmp_path / "run")
    assert result.exit_code == 2 and "--batch-size" in result.output and "many" in result.output
    assert not (tmp_path / "run").exists()
