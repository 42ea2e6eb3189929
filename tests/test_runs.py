"""kerasnet.runs: the versioned metrics.json schema, its upgrade of older files, and one writer."""

import json
import pathlib

import pytest

from kerasnet.runs import read_metrics, write_metrics
from kerasnet.runs.metrics import FORMAT, VERSION

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "kerasnet"


def test_write_stamps_the_format_and_read_returns_it(tmp_path):
    write_metrics(tmp_path, {"kind": "fit", "task": "binary", "train": {"loss": float("nan")}})
    raw = json.loads((tmp_path / "metrics.json").read_text())
    assert raw["format"] == FORMAT and raw["version"] == VERSION == 2
    assert raw["train"]["loss"] is None  # JSON has no NaN
    assert read_metrics(tmp_path) == raw
    with pytest.raises(ValueError, match="need a 'kind'"):
        write_metrics(tmp_path, {"task": "binary"})


def test_version_1_files_are_upgraded_on_reading(tmp_path):
    fit = tmp_path / "fit"
    fit.mkdir()
    (fit / "metrics.json").write_text(json.dumps({"task": "binary", "target": "y", "n_features": 3,
                                                  "pruned": {"n_params": [10, 4]}}))
    metrics = read_metrics(fit)
    assert metrics["kind"] == "fit" and metrics["prune"] == {"n_params": [10, 4]} and "pruned" not in metrics
    assert metrics["data"]["target"] == "y" and metrics["data"]["n_features"] == 3
    assert metrics["version"] == VERSION

    path = tmp_path / "path"
    path.mkdir()
    (path / "path.csv").write_text("lambda\n0.1\n")
    (path / "metrics.json").write_text(json.dumps({"lambda_min": 0.1, "lambda_1se": 0.2, "selected": "1se"}))
    metrics = read_metrics(path)
    assert metrics["kind"] == "path" and metrics["path"] == {"lambda_min": 0.1, "lambda_1se": 0.2,
                                                             "selected": "1se"}

    demo = tmp_path / "demo"  # kerasnet 0.1's demo: kind "path", its held-out rows called "validation"
    demo.mkdir()
    old = {"kind": "path", "comparison": {}, "validation": {"n_rows": 5}}
    (demo / "metrics.json").write_text(json.dumps(old))
    metrics = read_metrics(demo)
    assert metrics["kind"] == "demo" and metrics["held_out"] == {"n_rows": 5} and "validation" not in metrics


@pytest.mark.parametrize("content, words", [
    (json.dumps({"format": FORMAT, "version": VERSION + 1, "kind": "fit"}), "written by a newer kerasnet"),
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "not a JSON object"),
])
def test_unreadable_metrics_are_refused_in_one_line(tmp_path, content, words):
    (tmp_path / "metrics.json").write_text(content)
    with pytest.raises(ValueError, match=words):
        read_metrics(tmp_path)
    with pytest.raises(ValueError, match="holds no metrics.json"):
        read_metrics(tmp_path / "elsewhere")


def test_only_the_runs_package_writes_metrics_and_commands_do_not_import_each_other():
    """One owner for run folders: no command writes metrics.json or imports another command."""
    commands = ["compare", "demo", "fit", "path", "predict", "report", "select"]
    for name in commands:
        text = (SRC / "cli" / f"{name}.py").read_text()
        assert "metrics.json\")" not in text and "write_json" not in text and "atomic_dir" not in text, name
        for other in commands:
            assert f"from .{other} import" not in text, (name, other)
    writers = [p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if "write_metrics(" in p.read_text()
               and "def write_metrics" not in p.read_text()]
    assert writers and all(w.startswith("runs/") for w in writers), writers


def test_folder_refusals_name_arguments_and_the_command_line_names_flags(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from kerasnet.cli import cli
    from kerasnet.errors import InputError
    from kerasnet.runs.folder import check_out_dir

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match=r"^out='mine' already exists .* pass overwrite=True to replace"):
        check_out_dir("mine", overwrite=False)
    result = CliRunner().invoke(cli, ["fit", "--dataset", "iris", "--out", "mine"])
    assert result.exit_code == 2 and "--out mine already exists" in result.output
    assert "pass --overwrite to replace" in result.output and "=True" not in result.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
