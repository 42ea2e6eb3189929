"""Bad inputs on the command line: what predict needs lives with the model, damaged files and values
beyond float32 are one line with exit 2, never a wrong answer with exit 0."""

import io
import json
import shutil

import keras
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli
from kerasnet.data import InputError, Preprocessor

TINY = ["--epochs", "2", "--hidden", "4", "--batch-size", "64"]
PATH_TINY = [*TINY, "--n-lambdas", "3", "--cv", "2"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_exit_2(result, words):
    """The result is a single ``kerasnet: error:`` line containing ``words``, exit code 2."""
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("kerasnet: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert words in result.stderr, result.stderr


def _binary(n=40, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": rng.normal(size=n), "y": np.where(a > 0, "yes", "no")})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A binary and a regression fit folder, and the CSV files they were fit on."""
    root = tmp_path_factory.mktemp("inputs")
    table = _binary()
    paths = {"binary.csv": root / "binary.csv", "regression.csv": root / "regression.csv",
             "wide.csv": root / "wide.csv"}
    table.to_csv(paths["binary.csv"], index=False)
    table.assign(y=table["a"] * 2.0).to_csv(paths["regression.csv"], index=False)
    table.assign(c=table["a"] + 1.0).to_csv(paths["wide.csv"], index=False)
    for name, csv in (("binary", "binary.csv"), ("regression", "regression.csv"), ("wide", "wide.csv")):
        result = invoke("fit", paths[csv], "--target", "y", *TINY, "--out", root / name)
        assert result.exit_code == 0, result.output
        paths[name] = root / name
    return paths


@pytest.fixture(scope="module")
def poisson(tmp_path_factory):
    """A Poisson path run with an offset column, and its data."""
    rng = np.random.default_rng(5)
    n = 60
    x1, exposure = rng.normal(size=n), rng.uniform(0.5, 2.0, size=n)
    table = pd.DataFrame({"x1": x1, "x2": rng.normal(size=n), "log_exposure": np.log(exposure),
                          "claims": rng.poisson(exposure * np.exp(0.3 + 0.8 * x1))})
    root = tmp_path_factory.mktemp("poisson")
    table.to_csv(root / "claims.csv", index=False)
    # A given grid (no probe of its top): the tests read what the run saved, not where its grid starts.
    result = invoke("path", root / "claims.csv", "--target", "claims", "--task", "poisson", "--offset-column",
                    "log_exposure", *TINY, "--lambdas", "0.1,0.01", "--cv", "2", "--out", root / "run")
    assert result.exit_code == 0, result.output
    return root / "run", root / "claims.csv", table


def _rates(folder, table):
    model = keras.saving.load_model(folder / "model.keras", safe_mode=True, compile=False)
    pre = Preprocessor.load(folder / "preprocessing.json")
    return model.predict(pre.transform(table), verbose=0)[:, 0]


# --------------------------------------------------------------------------- the offset lives with the model


@pytest.mark.parametrize("metrics", ["missing", "truncated", "newer"])
def test_poisson_model_copied_with_its_preprocessing_predicts_counts(poisson, metrics, tmp_path):
    run, data, table = poisson
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("model.keras", "preprocessing.json"):
        shutil.copy(run / name, copy / name)
    if metrics == "truncated":
        (copy / "metrics.json").write_text((run / "metrics.json").read_text()[:50])
    elif metrics == "newer":
        (copy / "metrics.json").write_text(json.dumps({"schema": 999, "settings": {}}))
    assert json.loads((copy / "preprocessing.json").read_text())["offset_column"] == "log_exposure"
    result = invoke("predict", copy, data)
    assert result.exit_code == 0, result.output
    counts = pd.read_csv(io.StringIO(result.stdout))["predicted_claims"].to_numpy()
    # Expected counts: the network's rate times each row's exposure, exp(log exposure).
    np.testing.assert_allclose(counts, _rates(run, table) * np.exp(table["log_exposure"]), rtol=1e-4)


def test_older_poisson_preprocessing_without_the_key_still_loads(poisson, tmp_path):
    run, data, table = poisson
    state = json.loads((run / "preprocessing.json").read_text())
    del state["offset_column"]
    old = Preprocessor.from_dict(state)
    assert old.offset_column_ is None and not old.offset_recorded_
    # An older run folder: its metrics.json still says which column is the offset.
    folder = tmp_path / "old"
    shutil.copytree(run, folder)
    (folder / "preprocessing.json").write_text(json.dumps(state))
    counts = pd.read_csv(io.StringIO(invoke("predict", folder, data).stdout))["predicted_claims"]
    np.testing.assert_allclose(counts, _rates(run, table) * np.exp(table["log_exposure"]), rtol=1e-4)
    # Without metrics.json an older file means no offset: the rates.
    (folder / "metrics.json").unlink()
    rates = pd.read_csv(io.StringIO(invoke("predict", folder, data).stdout))["predicted_claims"]
    np.testing.assert_allclose(rates, _rates(run, table), rtol=1e-4)


def test_a_poisson_run_without_offset_records_none(poisson):
    pre = Preprocessor(task="poisson").fit(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), pd.Series([0, 1, 2]))
    state = pre.to_dict()
    assert state["offset_column"] is None
    assert Preprocessor.from_dict(state).offset_recorded_


# ------------------------------------------------------------------ the model against its preprocessing


@pytest.mark.parametrize("model_from, pre_from, words", [
    ("regression", "binary", "the model's output activation is 'linear', task 'binary' needs 'sigmoid'"),
    ("binary", "regression", "the model's output activation is 'sigmoid', task 'regression' needs 'linear'"),
    ("wide", "binary", "the model takes 3 inputs, the preprocessing encodes 2 features"),
])
def test_a_model_from_another_run_is_refused(files, model_from, pre_from, words, tmp_path):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(files[model_from] / "model.keras", mixed / "model.keras")
    shutil.copy(files[pre_from] / "preprocessing.json", mixed / "preprocessing.json")
    one_line_exit_2(invoke("predict", mixed, files["binary.csv"]), words)


def test_a_multiclass_preprocessing_with_other_classes_is_refused(files, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(files["binary"], mixed)
    state = json.loads((mixed / "preprocessing.json").read_text())
    state.update(task="multiclass", classes=["a", "b", "c"])
    (mixed / "preprocessing.json").write_text(json.dumps(state))
    one_line_exit_2(invoke("predict", mixed, files["binary.csv"]),
                    "the model has 1 outputs, task 'multiclass' (3 classes) needs 3")


# --------------------------------------------------------------------------- damaged preprocessing.json


DAMAGE = {
    "no columns": (lambda s: s.pop("columns"), "it has no 'columns' entry"),
    "no task": (lambda s: s.pop("task"), "it has no 'task' entry"),
    "bad task": (lambda s: s.update(task="ranking"), "its task 'ranking' is not one of binary"),
    "no scale": (lambda s: s["columns"][0].pop("scale"), "column 'a' has no finite 'scale'"),
    "zero scale": (lambda s: s["columns"][0].update(scale=0), "column 'a' has scale 0, not a number > 0"),
    "columns 5": (lambda s: s.update(columns=5), "'columns' and 'feature_names' must be lists"),
    "one class": (lambda s: s.update(classes=["yes"]), "needs at least 2 distinct classes"),
    "names": (lambda s: s.update(feature_names=["a"]), "it lists 1 feature names for columns that encode 2"),
    "kind": (lambda s: s["columns"][1].update(kind="other"), "column 'b' has kind 'other'"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_preprocessing_file_is_one_line_exit_2(files, case, tmp_path):
    edit, words = DAMAGE[case]
    folder = tmp_path / "run"
    shutil.copytree(files["binary"], folder)
    state = json.loads((folder / "preprocessing.json").read_text())
    edit(state)
    with pytest.raises(InputError, match="^the preprocessing file is damaged or not kerasnet's: "):
        Preprocessor.from_dict(state)
    (folder / "preprocessing.json").write_text(json.dumps(state))
    result = invoke("predict", folder, files["binary.csv"])
    one_line_exit_2(result, words)
    assert "--task" not in result.stderr  # the file's task, not a flag


def test_random_bytes_as_preprocessing_file(files, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(files["binary"], folder)
    (folder / "preprocessing.json").write_bytes(bytes(range(128, 256)) * 4)
    one_line_exit_2(invoke("predict", folder, files["binary.csv"]), "is not text")


# --------------------------------------------------------------------------- values beyond float32


def test_preprocessor_refuses_values_beyond_float32_naming_column_and_row():
    big = float(np.finfo(np.float32).max) * 1.01  # finite in float64, inf in float32
    ok = float(np.finfo(np.float32).max) * 0.99
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, -big, 1.0]})
    with pytest.raises(InputError, match=r"^column 'b' holds -3.44e\+38 in row 2 \(1-based; line 3 of a CSV"):
        Preprocessor().fit(X)
    pre = Preprocessor().fit(X.assign(b=[0.5, ok, 1.0]))
    assert np.all(np.isfinite(pre.transform(X.assign(b=[0.5, ok, 1.0]))))
    with pytest.raises(InputError, match=r"^column 'b' holds 1e\+39 in row 3 "):
        pre.transform(X.assign(b=[0.5, 1.0, 1e39]))


@pytest.mark.parametrize("command", [
    ["fit", "--target", "y", *TINY],
    ["path", "--target", "y", *PATH_TINY],
    ["select", "--target", "y", "--n-pairs", "1", "--n-lambdas", "2", *TINY],
    ["compare", "--target", "y", "--l1", "1e-3", "--l2", "1e-3", *TINY],
])
def test_commands_refuse_features_beyond_float32(command, tmp_path):
    table = _binary()
    table.loc[6, "b"] = 1e308
    table.to_csv(tmp_path / "big.csv", index=False)
    result = invoke(command[0], tmp_path / "big.csv", *command[1:], "--out", tmp_path / "out")
    one_line_exit_2(result, "column 'b' holds 1e+308 in row 7 (1-based; line 8 of a CSV file")
    assert not (tmp_path / "out").exists()


def test_predict_refuses_features_beyond_float32(files, tmp_path):
    rows = _binary(5).assign(a=[0.0, 1e39, 0.0, 0.0, 0.0])
    rows.to_csv(tmp_path / "rows.csv", index=False)
    result = invoke("predict", files["binary"], tmp_path / "rows.csv")
    one_line_exit_2(result, "column 'a' holds 1e+39 in row 2")


# --------------------------------------------------------------------------- path: the library's refusals


@pytest.mark.parametrize("flags, words", [
    (["--l1-ratio", "nan"], "Invalid value for '--l1-ratio': 'nan' is not a finite number"),
    (["--lambda-min-ratio", "nan"], "Invalid value for '--lambda-min-ratio': 'nan' is not a finite number"),
    (["--penalty-factor", "a=0", "--penalty-factor", "b=0"], "leaves no input column penalized"),
    (["--penalty-factor", "a=inf", "--penalty-factor", "b=0"], "every factor is 0 or inf"),
    (["--penalty-factor", "a=inf", "--exclude", "b"], "leave out every input column"),
    (["--exclude", "a", "--exclude", "b"], "leave out every input column"),
    (["--scheduler", "not-an-address"], "--scheduler 'not-an-address' is not a Dask scheduler address"),
    (["--seed", "-5"], "Invalid value for '--seed': -5 is not in the range 0<=x<=4294967295"),
    (["--penalty-factor", "y=0"], "--penalty-factor 'y' is the target (--target), not an input column"),
    (["--exclude", "b", "--drop", "b"], "--exclude 'b' is left out by --drop, not an input column"),
    (["--epochs", "99999999999999999999"], "99999999999999999999 is not in the range 1<=x<=100000"),
    (["--n-lambdas", "1000000"], "'--n-lambdas': 1000000 is not in the range 1<=x<=10000"),
    (["--cv", "100000"], "'--cv': 100000 is not in the range 2<=x<=10000"),
    (["--batch-size", "10000000000"], "'--batch-size': 10000000000 is not in the range 1<=x<=10000000"),
    (["--hidden", "100000000"], "'100000000' is beyond any machine's memory or time"),
    (["--hidden", "20000,20000"], "'20000,20000' is beyond any machine's memory or time"),
])
def test_path_refuses_bad_arguments_in_one_line(files, flags, words, tmp_path):
    if "--scheduler" in flags:
        pytest.importorskip("dask.distributed")
    result = invoke("path", files["binary.csv"], "--target", "y", *PATH_TINY, *flags, "--out", tmp_path / "o")
    one_line_exit_2(result, words)
    assert not (tmp_path / "o").exists()


def test_path_offset_column_that_is_the_target(poisson, tmp_path):
    _, data, _ = poisson
    result = invoke("path", data, "--target", "claims", "--task", "poisson", "--offset-column", "claims",
                    "--out", tmp_path / "o")
    one_line_exit_2(result, "--offset-column 'claims' is the target (--target), not an input column")


def test_library_errors_are_told_from_bugs():
    from kerasnet.cli._common import is_argument_error
    from kerasnet.path.inputs import check_settings

    with pytest.raises(ValueError) as refused:
        check_settings(0.5, 1e-3, l1_ratio=2.0)
    assert is_argument_error(refused.value)
    with pytest.raises(ValueError) as bug:
        np.zeros(2).reshape(3)  # raised outside kerasnet: not the user's arguments
    assert not is_argument_error(bug.value)


def test_constant_columns_are_exactly_zero_and_path_refuses_them(files, tmp_path):
    # 0.1 sixty times has a float64 sd of about 4e-17; it must still encode as exactly 0.
    X = pd.DataFrame({"a": [0.1] * 60, "b": [0.7] * 60})
    assert np.std(X["a"].to_numpy()) > 0
    pre = Preprocessor().fit(X)
    assert pre.columns_[0]["scale"] == 1.0 and np.all(pre.transform(X) == 0)
    table = _binary(60).assign(a=0.1, b=0.7)
    table.to_csv(tmp_path / "const.csv", index=False)
    result = invoke("path", tmp_path / "const.csv", "--target", "y", *PATH_TINY, "--out", tmp_path / "o")
    one_line_exit_2(result, "every feature column is constant (a, b)")


# --------------------------------------------------------------------------- divergence


def test_null_loss_is_the_constant_models_loss():
    from sklearn.metrics import log_loss, mean_poisson_deviance, mean_squared_error

    from kerasnet.runs.training import null_loss

    y = np.array([0, 1, 1, 1, 0, 1], float)
    assert null_loss("binary", y) == pytest.approx(log_loss(y, np.full(6, 4 / 6)))
    k = np.array([0, 2, 2, 1, 2, 2])
    shares = np.array([[1 / 6, 1 / 6, 4 / 6]] * 6)
    assert null_loss("multiclass", k) == pytest.approx(log_loss(k, shares))
    v = np.array([1.0, 4.0, 2.0, 9.0])
    assert null_loss("regression", v) == pytest.approx(mean_squared_error(v, np.full(4, 4.0)))
    c = np.array([0.0, 1.0, 3.0, 4.0])  # Keras's poisson: mu - y log mu, at mu = mean(y) = 2
    assert null_loss("poisson", c) == pytest.approx(np.mean(2.0 - c * np.log(2.0)))
    assert mean_poisson_deviance(c, np.full(4, 2.0)) > 0 and null_loss("cox", c) is None


@pytest.mark.parametrize("losses, diverged", [
    ([4.3, 7.3, 7.7], True),           # rose above its first epoch, far above the constant model (0.7)
    ([8864.0, 1.1e5, 1018.0], True),   # a spike of 10x the first epoch, ending far above the constant
    ([900.0, 400.0, 100.0], False),    # falling slowly from far above: not converged, not diverged
    ([0.69, 0.8, 1.3], False),         # rising, but within twice the constant model's loss
    ([0.7, 0.5, float("nan")], True),  # not finite
])
def test_divergence_rule(losses, diverged):
    from kerasnet.runs.training import divergence

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    history = pd.DataFrame({"loss": losses, "data_loss": losses})
    assert (divergence(history, model, 0.7) is not None) is diverged


def test_fit_with_a_huge_learning_rate_records_and_says_it_diverged(files, tmp_path):
    result = invoke("fit", files["binary.csv"], "--target", "y", "--hidden", "4", "--epochs", "10",
                    "--learning-rate", "10", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert "kerasnet: warning: training diverged (the training data loss went from" in result.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    # The rule by hand: the last epoch's loss is above the first's and above twice the class shares' log loss.
    y = (_binary()["y"] == "yes").to_numpy(float)
    p = y.mean()
    constant = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    assert history["data_loss"].iloc[-1] > max(history["data_loss"].iloc[0], 2 * constant)
    assert metrics["diverged"] is True and "constant model" in metrics["diverged_reason"]


# --------------------------------------------------------------------------- misleading or missing words


@pytest.mark.parametrize("command", [["fit", *TINY], ["path", *PATH_TINY]])
def test_a_csv_written_with_its_index_is_refused(files, command, tmp_path):
    _binary().to_csv(tmp_path / "indexed.csv")  # pandas' default: the index as 'Unnamed: 0'
    out = tmp_path / "o"
    result = invoke(command[0], tmp_path / "indexed.csv", "--target", "y", *command[1:], "--out", out)
    one_line_exit_2(result, "column 'Unnamed: 0' holds the row numbers 0, 1, 2, ... of a CSV file written "
                            "with its index")
    assert "(--drop 'Unnamed: 0')" in result.stderr


def test_an_unnamed_column_of_other_values_is_a_feature():
    from kerasnet.data import split_features_target

    frame = pd.DataFrame({"Unnamed: 0": [3, 1, 2], "y": [0, 1, 0]})
    features, _ = split_features_target(frame, "y")
    assert list(features.columns) == ["Unnamed: 0"]


def test_select_on_five_rows_is_one_clear_line(tmp_path):
    _binary(5).to_csv(tmp_path / "five.csv", index=False)
    result = invoke("select", tmp_path / "five.csv", "--target", "y", *TINY, "--out", tmp_path / "o")
    one_line_exit_2(result, "needs at least 20 rows, got 5")


def test_select_with_a_single_row_class(tmp_path):
    _binary(30).assign(y=["a"] + ["b", "c"] * 14 + ["b"]).to_csv(tmp_path / "rare.csv", index=False)
    result = invoke("select", tmp_path / "rare.csv", "--target", "y", *TINY, "--out", tmp_path / "o")
    one_line_exit_2(result, "class 'a' has a single row, and every half-sample needs each class")
    assert "--cv" not in result.stderr  # select has no --cv


def test_seed_errors_name_the_seed(files, tmp_path):
    out = tmp_path / "o"
    result = invoke("fit", files["binary.csv"], "--target", "y", *TINY, "--seed", "-5", "--out", out)
    one_line_exit_2(result, "Invalid value for '--seed': -5 is not in the range 0<=x<=4294967295")
    assert "validation" not in result.stderr


def test_compare_names_the_test_split(files, tmp_path):
    result = invoke("compare", files["binary.csv"], "--target", "y", *TINY, "--test-split", "0.01",
                    "--choose", "default", "--out", tmp_path / "o")
    one_line_exit_2(result, "--test-split 0.01 cannot split the 40 rows")
    assert "--validation-split" not in result.stderr


def test_names_with_spaces_around_them_are_quoted(tmp_path):
    (tmp_path / "space.csv").write_text(" a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30)))
    result = invoke("fit", tmp_path / "space.csv", "--target", "a", *TINY, "--out", tmp_path / "o")
    one_line_exit_2(result, "(columns: ' a', b, y); the data's column ' a' has spaces around its name")


def test_decimal_commas_are_named_as_such(tmp_path):
    rng = np.random.default_rng(0)
    cells = [f'"{v:.3f}"'.replace(".", ",") for v in rng.normal(size=40)]
    (tmp_path / "comma.csv").write_text("a,b,y\n" + "".join(f"{c},1,{i % 2}\n" for i, c in enumerate(cells)))
    result = invoke("fit", tmp_path / "comma.csv", "--target", "y", *TINY, "--out", tmp_path / "o")
    one_line_exit_2(result, "column 'a' holds numbers written with a decimal comma (such as ")
    assert "id" not in result.stderr.split("error:")[1]


@pytest.mark.parametrize("name, what", [("data.xlsx", "a spreadsheet (.xlsx)"),
                                        ("data.json", "JSON (.json)")])
def test_unsupported_formats_say_so(name, what, tmp_path):
    (tmp_path / name).write_bytes(b'[{"a": 1, "y": 0}, {"a": 2, "y": 1}]')
    result = invoke("fit", tmp_path / name, "--target", "y", *TINY, "--out", tmp_path / "o")
    one_line_exit_2(result, f"is {what}, which kerasnet does not read; save it as CSV")
    assert "no rows" not in result.stderr


@pytest.mark.parametrize("ratio, diverged", [(-8.58, True), (-1.01, True), (-0.99, False), (0.3, False),
                                             (float("nan"), False)])
def test_path_warns_when_the_selected_model_is_worse_than_constant(ratio, diverged):
    from types import SimpleNamespace

    from kerasnet.cli.path import worse_than_constant

    # %Dev = 1 - D / D_constant: below -100% the deviance is more than twice the constant model's.
    path = SimpleNamespace(dev_ratio_=np.array([0.1, ratio]))
    assert (worse_than_constant(path, 1, 10.0) is not None) is diverged


def test_path_with_a_huge_learning_rate_says_it_diverged(files, tmp_path):
    result = invoke("path", files["regression.csv"], "--target", "y", "--hidden", "4", "--epochs", "10",
                    "--n-lambdas", "3", "--cv", "2", "--learning-rate", "10", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "run" / "path.csv")
    ratio = frame.loc[frame["selected"].str.contains("1se", na=False), "dev_ratio"].iloc[0]
    assert ratio < -1  # the selected refit's deviance is more than twice the constant model's
    assert "kerasnet: warning: training diverged (the selected model's deviance" in result.stderr
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["diverged"] is True
