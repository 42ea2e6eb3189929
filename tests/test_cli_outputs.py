"""Nothing but a verified kerasnet output is ever written over, and outputs look like any new file.

``kerasnet report`` writes only into a run folder whose marker records the sha256 of each
file, unchanged; ``--overwrite`` removes only such files; ``predict --overwrite`` replaces only
a predictions file whose recorded sha256 matches. Every refusal is one line, exit 2, with the
user's files byte-identical afterwards (sha256 computed here with hashlib, independently of
kerasnet's own record). Files get ``0o666 & ~umask``; --out names are checked against the file
system's limit before any training.
"""

import hashlib
import json
import os
import shutil
import stat

import pytest
from click.testing import CliRunner

from kerasnet.cli import cli
from kerasnet.data import load_dataset
from kerasnet.runs import read_metrics
from kerasnet.runs.folder import RUN_MARKER, write_run_marker
from kerasnet.runs.metrics import FORMAT, VERSION

FAST = ["--epochs", "2", "--hidden", "4", "--batch-size", "64"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def digests(folder) -> dict:
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            found[os.path.relpath(path, folder)] = digest(path)
    return found


def refused(result, *words):
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("kerasnet: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr, result.stderr


def marker(folder) -> dict:
    return json.loads((folder / RUN_MARKER).read_text())


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """One tiny fit run (iris, 2 epochs), copied by each test that changes it."""
    out = tmp_path_factory.mktemp("runs") / "run"
    result = invoke("fit", "--dataset", "iris", *FAST, "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def run(original, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(original, tmp_path / "run")
    return tmp_path / "run"


# --------------------------------------------------------------------------- the marker's record


def test_marker_records_the_sha256_of_every_file_the_run_wrote(run):
    files = {name: digest(run / name) for name in os.listdir(run) if name != RUN_MARKER}
    assert {"model.keras", "metrics.json", "report.html", "learning_curves.png"} <= set(files)
    assert marker(run)["files"] == files and marker(run)["version"] == 2


# --------------------------------------------------------------------------- kerasnet report


@pytest.mark.parametrize("content", ['{"accuracy": 0.9}', "{}",
                                     json.dumps({"kind": "fit", "task": "binary"})])
def test_report_never_writes_into_a_folder_that_is_not_a_run(tmp_path, content):
    (tmp_path / "metrics.json").write_text(content)
    (tmp_path / "report.html").write_text("<p>my own report</p>")
    (tmp_path / "learning_curves.png").write_bytes(b"my figure")
    before = digests(tmp_path)
    refused(invoke("report", tmp_path), "not a kerasnet run folder", RUN_MARKER)
    assert digests(tmp_path) == before


def test_a_marker_copied_into_a_users_folder_does_not_let_report_write(run, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    for name in (RUN_MARKER, "metrics.json"):  # the run's own marker and metrics, byte for byte
        shutil.copy(run / name, mine / name)
    (mine / "report.html").write_text("<p>my own report</p>")
    before = digests(mine)
    refused(invoke("report", mine), "changed since kerasnet wrote them", "report.html")
    assert digests(mine) == before


def test_report_replaces_its_own_files_and_records_them(run):
    os.remove(run / "report.html")
    for _ in range(2):  # the second time it replaces what it wrote the first time
        result = invoke("report", run)
        assert result.exit_code == 0, result.output
        files = marker(run)["files"]
        for name in ("report.html", "learning_curves.png", "weight_histograms.png"):
            assert files[name] == digest(run / name), name
    assert read_metrics(run)["kind"] == "fit"


@pytest.mark.parametrize("name", ["report.html", "learning_curves.png", "history.csv", "metrics.json"])
def test_report_refuses_a_run_whose_file_the_user_changed(run, name):
    with open(run / name, "ab") as fh:
        fh.write(b"\n<!-- my edit -->\n")
    before = digests(run)
    refused(invoke("report", run), "changed since kerasnet wrote them", name)
    assert digests(run) == before


def test_report_never_writes_over_a_figure_kerasnet_did_not_record(run):
    record = marker(run)
    del record["files"]["weight_histograms.png"]  # as if the user had put their own file there
    (run / RUN_MARKER).write_text(json.dumps(record))
    (run / "weight_histograms.png").write_bytes(b"my own histogram")
    before = digests(run)
    refused(invoke("report", run), "weight_histograms.png", "was not written by kerasnet")
    assert digests(run) == before


@pytest.mark.parametrize("name", ["path.csv", "curves.csv", "stability.csv"])
def test_report_never_reads_a_file_the_run_did_not_write(run, name):
    (run / name).write_text("garbage;;;\n\x00\x01\n")  # a user's file where a run keeps its tables
    before = digests(run)
    refused(invoke("report", run), name, "kerasnet did not write")
    assert digests(run) == before


def test_report_leaves_other_files_of_the_user_alone(run):
    (run / "my_analysis.ipynb").write_text("{}")
    result = invoke("report", run)
    assert result.exit_code == 0, result.output
    assert (run / "my_analysis.ipynb").read_text() == "{}" and "my_analysis.ipynb" not in marker(run)["files"]


@pytest.mark.parametrize("metrics, words", [
    ({"format": FORMAT, "version": VERSION, "kind": "banana", "task": "binary"}, "kind 'banana'"),
    ({"format": FORMAT, "version": VERSION, "task": "binary"}, "has no 'kind'"),
    ({"format": FORMAT, "version": VERSION, "kind": "compare"}, "no 'variants'"),
    ({"accuracy": 0.9}, "not a kerasnet metrics file"),
])
def test_report_on_metrics_outside_the_schema_is_one_line(tmp_path, metrics, words):
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    write_run_marker(str(tmp_path), "fit")  # a marker that matches: only the schema is wrong
    before = digests(tmp_path)
    refused(invoke("report", tmp_path), words)
    assert digests(tmp_path) == before
    with pytest.raises(ValueError, match=words):
        read_metrics(tmp_path)


def test_report_on_an_old_marker_without_checksums_is_refused(run):
    (run / RUN_MARKER).write_text(json.dumps({"format": "kerasnet.run", "version": 1, "command": "fit",
                                              "files": sorted(os.listdir(run))}))
    before = digests(run)
    refused(invoke("report", run), "older kerasnet")
    assert digests(run) == before


# --------------------------------------------------------------------------- --overwrite of a folder


def test_overwrite_never_deletes_files_named_in_a_copied_marker(run, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(run / RUN_MARKER, mine / RUN_MARKER)
    (mine / "history.csv").write_text("my,own\n1,2\n")  # named in the marker, not the run's bytes
    (mine / "model.keras").write_bytes(b"my model")
    before = digests(mine)
    refused(invoke("fit", "--dataset", "iris", *FAST, "--out", mine, "--overwrite"),
            "changed since kerasnet wrote them", "history.csv")
    assert digests(mine) == before


def test_overwrite_refuses_a_run_whose_recorded_file_was_edited(run):
    (run / "history.csv").write_text("epoch,loss\n1,0.5\n")
    before = digests(run)
    refused(invoke("fit", "--dataset", "iris", *FAST, "--out", run, "--overwrite"), "history.csv")
    assert digests(run) == before


def test_overwrite_refuses_a_users_file_in_a_sub_folder(run):
    (run / "notes").mkdir()
    (run / "notes" / "todo.txt").write_text("keep")
    before = digests(run)
    refused(invoke("fit", "--dataset", "iris", *FAST, "--out", run, "--overwrite"), "did not write", "notes")
    assert digests(run) == before


def test_overwrite_replaces_a_run_after_report_rebuilt_it(run):
    assert invoke("report", run).exit_code == 0
    result = invoke("fit", "--dataset", "iris", *FAST, "--seed", "4", "--out", run, "--overwrite")
    assert result.exit_code == 0, result.output
    assert read_metrics(run)["settings"]["seed"] == 4


# --------------------------------------------------------------------------- predict --overwrite


@pytest.fixture
def rows(run):
    """Nine iris rows without the target, next to the run folder."""
    frame, target = load_dataset("iris")
    frame.drop(columns=target).head(9).to_csv(run.parent / "rows.csv", index=False)
    return run.parent / "rows.csv"


def test_predict_overwrite_refuses_a_users_csv_with_a_predicted_column(run, rows):
    (run.parent / "sales.csv").write_text("id,predicted_sales\n1,10\n2,20\n")
    before = digests(run.parent)
    refused(invoke("predict", run, rows, "--out", run.parent / "sales.csv", "--overwrite"),
            "not a predictions file written by kerasnet predict", "sales.csv")
    assert digests(run.parent) == before


def test_predict_overwrite_replaces_only_its_own_unchanged_file(run, rows):
    out = run.parent / "preds.csv"
    assert invoke("predict", run, rows, "--out", out).exit_code == 0
    record = json.loads((run.parent / ".preds.csv.kerasnet").read_text())
    assert record["sha256"] == digest(out) and record["file"] == "preds.csv"
    assert invoke("predict", run, rows, "--out", out, "--overwrite").exit_code == 0
    with open(out, "a") as fh:  # the user adds a note: no longer what kerasnet wrote
        fh.write("my note\n")
    before = digests(run.parent)
    refused(invoke("predict", run, rows, "--out", out, "--overwrite"), "or it was changed since")
    assert digests(run.parent) == before
    # A record copied next to another file names the file it was written for.
    (run.parent / "other.csv").write_text(out.read_text())
    shutil.copy(run.parent / ".preds.csv.kerasnet", run.parent / ".other.csv.kerasnet")
    refused(invoke("predict", run, rows, "--out", run.parent / "other.csv", "--overwrite"),
            "not a predictions file")


# --------------------------------------------------------------------------- modes


@pytest.fixture
def umask():
    def set_to(mask):
        os.umask(mask)

    old = os.umask(0o022)
    os.umask(old)
    yield set_to
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_predictions_get_the_umasks_mode_also_when_overwritten(run, rows, umask, mask):
    umask(mask)
    out = run.parent / "preds.csv"
    assert invoke("predict", run, rows, "--out", out).exit_code == 0
    assert mode(out) == 0o666 & ~mask
    os.chmod(out, 0o600)
    assert invoke("predict", run, rows, "--out", out, "--overwrite").exit_code == 0
    assert mode(out) == 0o666 & ~mask


def test_run_folder_files_get_the_umasks_mode(tmp_path, umask):
    umask(0o027)
    result = invoke("fit", "--dataset", "iris", *FAST, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert mode(tmp_path / "run") == 0o750
    for name in os.listdir(tmp_path / "run"):
        assert mode(tmp_path / "run" / name) == 0o640, name
    umask(0o002)
    assert invoke("report", tmp_path / "run").exit_code == 0
    assert mode(tmp_path / "run" / "report.html") == 0o664 and mode(tmp_path / "run" / RUN_MARKER) == 0o664


# --------------------------------------------------------------------------- checked before training


def _name_max(folder) -> int:
    return os.pathconf(folder, "PC_NAME_MAX")


def test_an_overlong_out_name_is_refused_before_training(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # Short enough to create, too long once kerasnet adds ".", ".tmp-" and 8 random characters.
    name = "r" * (_name_max(tmp_path) - 5)
    os.mkdir(name)
    os.rmdir(name)
    result = invoke("fit", "--dataset", "iris", *FAST, "--out", name)
    limit = _name_max(tmp_path)
    refused(result, "--out", "too long a name", f"allows {limit}", f"at most {limit - 14} bytes")
    assert ".tmp-" not in result.stderr and "Epoch" not in result.output
    assert os.listdir(tmp_path) == []


def test_an_overlong_parent_name_is_refused_before_training(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("fit", "--dataset", "iris", *FAST, "--out", "p" * (_name_max(tmp_path) + 1) + "/run")
    refused(result, "folder name too long")
    assert "Epoch" not in result.output and os.listdir(tmp_path) == []


def test_an_overlong_predictions_name_is_refused(run, rows):
    out = run.parent / ("p" * (_name_max(run.parent) - 8) + ".csv")
    before = digests(run.parent)
    result = invoke("predict", run, rows, "--out", out)
    refused(result, "too long a name")
    assert ".tmp-" not in result.stderr and digests(run.parent) == before
