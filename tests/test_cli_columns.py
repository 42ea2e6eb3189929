"""Bad columns on the command line: exit 2, one line naming the column, nothing written, input untouched."""

import hashlib

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli

FAST = ["--epochs", "1", "--hidden", "4", "--batch-size", "64"]
COMMANDS = {
    "fit": ["fit", *FAST],
    "fit-no-validation": ["fit", *FAST, "--validation-split", "0"],
    "path": ["path", *FAST, "--n-lambdas", "2", "--cv", "2"],
    "select": ["select", *FAST, "--n-lambdas", "2", "--n-pairs", "1"],
}


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x1": x1,
            "x2": rng.normal(size=n).round(4),
            "color": rng.choice(["red", "green", "blue"], n),
            "label": np.where(x1 + rng.normal(scale=0.5, size=n) > 0, "yes", "no"),
        }
    )


def _stray_text(frame):
    frame = frame.astype({"x2": object})
    frame.loc[::10, "x2"] = "?"  # 6 of 60 rows: some land in every training split
    frame.loc[5, "x2"] = "1,5"
    return frame.to_csv(index=False)


def _dates(frame):
    return frame.assign(day=pd.date_range("2024-01-01", periods=len(frame)).astype(str)).to_csv(index=False)


def _ids(frame):
    return frame.assign(customer=[f"cust-{i:04d}" for i in range(len(frame))]).to_csv(index=False)


def _duplicate_header(frame):
    text = frame.to_csv(index=False)
    header, rest = text.split("\n", 1)
    return header.replace("x2", "x1") + "\n" + rest  # x1, x1, color, label


CASES = {
    # name: (CSV text, words the one line must hold)
    "stray-text": (_stray_text, ["column 'x2' holds numbers", "'?'", "'1,5'", "--drop x2"]),
    "dates": (_dates, ["column 'day' holds dates", "'2024-01-0", "--drop day"]),
    "id": (_ids, ["column 'customer' has", "looks like an id", "--drop customer"]),
    "duplicate-header": (_duplicate_header, ["duplicate column names", "'x1' (2 times)"]),
}


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(CASES))
def test_bad_column_is_one_line_exit_2_and_nothing_written(tmp_path, command, case):
    make, words = CASES[case]
    path = tmp_path / "data.csv"
    path.write_text(make(_table()))
    before = _sha256(path)
    out = tmp_path / "run"
    result = invoke(*COMMANDS[command][:1], path, "--target", "label", *COMMANDS[command][1:], "--out", out)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("kerasnet: error: ") and result.stderr.count("\n") == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert result.stdout == ""
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]
    assert _sha256(path) == before


def test_stray_text_in_the_target_is_refused(tmp_path):
    frame = _table().assign(label=lambda f: f["x1"].round(2).astype(object))
    frame.loc[[3, 9], "label"] = "n/a?"
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    before = _sha256(path)
    result = invoke("path", path, "--target", "label", *COMMANDS["path"][1:], "--out", tmp_path / "run")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "target 'label' holds numbers but 2 of 60 values are not numbers: 'n/a?'" in result.stderr
    assert not (tmp_path / "run").exists() and _sha256(path) == before


def test_dropping_the_named_column_makes_the_same_data_fit(tmp_path):
    # The fix the message gives works, and a few-valued text column stays a category.
    path = tmp_path / "data.csv"
    path.write_text(_ids(_table()))
    out = tmp_path / "run"
    result = invoke("fit", path, "--target", "label", "--drop", "customer", *FAST, "--out", out)
    assert result.exit_code == 0, result.output
    columns = pd.read_json(out / "preprocessing.json", typ="series")["columns"]
    assert [c["name"] for c in columns] == ["x1", "x2", "color"] and columns[2]["kind"] == "categorical"
    new = tmp_path / "new.csv"
    _table(5, seed=3).drop(columns="label").to_csv(new, index=False)
    predicted = invoke("predict", out, new)
    assert predicted.exit_code == 0, predicted.output
