"""report.html: self-contained, complete, escaped, and every figure renders in a real browser."""

import base64
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli
from kerasnet.runs import REPORT, build_report
from kerasnet.runs.folder import write_run_marker
from kerasnet.runs.records import environment

EVIL = "<script>alert('x')</script>"
FAST = ["--epochs", "3", "--hidden", "4", "--batch-size", "64"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 80
    x1 = rng.normal(size=n)
    frame = pd.DataFrame({
        "x1": x1,
        EVIL: rng.normal(size=n),  # a hostile column name must come out as text
        "color": rng.choice(["red", "<b>blue</b>"], n),
        "label": np.where(x1 + rng.normal(scale=0.5, size=n) > 0, "yes", "no"),
    })
    csv = tmp_path_factory.mktemp("data") / "train.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path_factory.mktemp("runs") / "run"
    result = invoke("fit", csv, "--target", "label", "--l1", "1e-3", "--l2", "1e-2", *FAST, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def _images(text):
    return re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", text)


@pytest.mark.backend
def test_fit_writes_a_self_contained_report(run_dir):
    text = (run_dir / REPORT).read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # Nothing to fetch: no links, no external sources, no scripts, no stylesheet imports.
    for needle in ("http://", "https://", 'src="http', "<script", "<link", "@import", "url("):
        assert needle not in text.lower(), needle
    images = _images(text)
    assert len(images) == 2 == text.count("<img")
    for uri in images:
        assert uri.startswith("data:image/png;base64,")
        assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # The same figures are written as PNG files, byte for byte.
    files = {"learning_curves.png", "weight_histograms.png"}
    assert files <= set(os.listdir(run_dir))
    embedded = {base64.b64decode(uri.split(",", 1)[1]) for uri in images}
    assert embedded == {(run_dir / f).read_bytes() for f in files}


@pytest.mark.backend
def test_report_has_the_sections_and_the_numbers(run_dir):
    text = (run_dir / REPORT).read_text(encoding="utf-8")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for title in ("Data", "Class balance", "Network and penalty", "Scores", "Learning curves",
                  "Weights per layer", "Features kept", "Environment", "Files"):
        assert f">{title}</h" in text, title
    # Class balance counts are the real ones (80 rows).
    counts = metrics["data"]["class_balance"]["all"]
    assert sum(counts.values()) == 80
    for label, n in counts.items():
        assert f"{n} ({n / 80:.1%})" in text, label
    assert "ElasticNet l1=0.001, l2=0.01" in text
    assert f"{metrics['validation']['accuracy']:.4g}" in text  # 4 significant digits
    env = metrics["environment"]
    import keras

    assert env["keras"] == keras.__version__ and env["backend"] == keras.backend.backend()
    assert env["seed"] == 0
    for value in (env["kerasnet"], env["keras"], env["python"], env["numpy"]):
        assert f"<td>{value}</td>" in text
    # The recorded command line reproduces the run: every option spelled out.
    line = metrics["command"]["line"]
    assert line.startswith("kerasnet fit ") and "--l1 0.001 --l2 0.01" in line and "--seed 0" in line
    assert "kerasnet fit" in text and "--l1 0.001" in text


def test_every_value_is_escaped(run_dir):
    text = (run_dir / REPORT).read_text(encoding="utf-8")
    assert EVIL not in text and "<b>blue</b>" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text  # the column, as text
    assert "color=&lt;b&gt;blue&lt;/b&gt;" in text  # the one-hot feature's name


def test_report_command_rebuilds_and_bad_folder_is_one_line(run_dir, tmp_path):
    os.remove(run_dir / REPORT)
    result = invoke("report", run_dir)
    assert result.exit_code == 0, result.output
    assert (run_dir / REPORT).is_file()
    bad = invoke("report", tmp_path)
    assert bad.exit_code == 2
    assert bad.output.strip().count("\n") == 0 and "metrics.json" in bad.output


def _path_folder(folder):
    """A path run folder as ``kerasnet path`` writes it: Path.to_frame() as path.csv + metrics."""
    lambdas = np.geomspace(1.0, 1e-3, 6)
    frame = pd.DataFrame({
        "lambda": lambdas, "l1": lambdas / 2, "l2": lambdas / 4,
        "cv_accuracy": [0.6, 0.8, 0.93, 0.95, 0.94, 0.94], "cv_accuracy_se": [0.01] * 6,
        "cv_loss": [0.6, 0.4, 0.2, 0.15, 0.16, 0.17], "cv_loss_se": [0.01] * 6,
        "sparsity": [1.0, 0.8, 0.5, 0.2, 0.1, 0.0], "n_features": [0, 3, 8, 20, 28, 30],
        "weight_norm": [0.0, 2.0, 8.0, 20.0, 40.0, 60.0], "refit_epochs": [10] * 6,
        "diverged": [False] * 6, "selected": ["", "", "1se", "min", "", ""],
    })
    folder.mkdir()
    frame.to_csv(folder / "path.csv", index=False)
    metrics = {"kind": "path", "task": "binary", "target": "y", "lambda_min": lambdas[3],
               "lambda_1se": lambdas[2], "selected": "1se",
               "prune": {"kept_features": [0, 2], "n_features": 30, "units": {"hidden_1": [64, 12]},
                         "params_before": 6209, "params_after": 1000, "feature_names": ["a", "c"]},
               "environment": environment(seed=3)}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    write_run_marker(folder, "path")  # as the command does last: the report writes only into a run
    return lambdas


def test_path_report_marks_both_choices_and_pruned_size(tmp_path):
    lambdas = _path_folder(tmp_path / "path")
    text = open(build_report(tmp_path / "path"), encoding="utf-8").read()
    assert ">Regularization path</h2>" in text and ">Pruned model</h2>" in text
    assert f"lambda_min = <b>{lambdas[3]:.4g}</b>" in text and f"lambda_1se = <b>{lambdas[2]:.4g}</b>" in text
    assert text.count('class="chosen"') == 2
    assert "6209" in text and "16.1%" in text and "64 -&gt; 12" in text
    assert (tmp_path / "path" / "path.png").read_bytes()[:4] == b"\x89PNG"
    assert all(uri.startswith("data:image/png;base64,") for uri in _images(text)) and _images(text)


def test_missing_metrics_is_a_value_error_naming_the_folder(tmp_path):
    with pytest.raises(ValueError, match="no metrics.json"):
        build_report(tmp_path)


# --------------------------------------------------------------------------- in a real browser

_PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  document.body.setAttribute("data-probe", JSON.stringify(
    imgs.map(i => [i.complete && i.naturalWidth > 0, i.naturalWidth, i.naturalHeight])));
});
</script>"""


def _render(html_path, tmp_path):
    """Chromium's DOM of ``html_path`` after load (offline, no network services)."""
    probe = tmp_path / "probe.html"
    probe.write_text(html_path.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"),
                     encoding="utf-8")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom",
               probe.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium); "
                    "the browser check of report.html needs it")
@pytest.mark.parametrize("kind", ["fit", "path"])
def test_every_figure_loads_in_headless_chromium(kind, run_dir, tmp_path):
    if kind == "fit":
        folder = run_dir
    else:
        folder = tmp_path / "path"
        _path_folder(folder)
        build_report(folder)
    dom = _render(folder / REPORT, tmp_path)
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, dom[:500]
    loaded = json.loads(found.group(1).replace("&quot;", '"'))
    assert len(loaded) == len(_images((folder / REPORT).read_text(encoding="utf-8"))) >= 1
    assert all(ok and width >= 300 and height >= 200 for ok, width, height in loaded), loaded


def test_path_command_writes_a_report(tmp_path):
    out = tmp_path / "path"
    result = invoke("path", "--dataset", "iris", "--n-lambdas", "4", "--cv", "2", "--epochs", "3", "--hidden",
                    "4", "--out", out)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    text = (out / REPORT).read_text(encoding="utf-8")
    assert ">Regularization path</h2>" in text and ">Weights per layer</h2>" in text
    assert f"lambda_min = <b>{metrics['path']['lambda_min']:.4g}</b>" in text
    assert metrics["command"]["line"].startswith("kerasnet path --dataset iris")
    assert {"path.png", "weight_histograms.png"} <= set(os.listdir(out))
    assert ">nan<" not in text  # unselected strengths have a blank mark, not pandas's NaN
    # path.png, learning_curves.png (the selected strength's CV curves), weight_histograms.png
    assert all(uri.startswith("data:image/png;base64,") for uri in _images(text)) and len(_images(text)) == 3
    curves = pd.read_csv(out / "curves.csv")
    assert list(curves.columns) == ["epoch", "loss", "objective", "data_loss", "penalty", "val_data_loss",
                                    "val_loss", "val_objective"]
    assert len(curves) == 3 and ">Learning curves</h2>" in text and "CV held-out folds" not in text[:100]
    assert ">What to conclude</h2>" in text and f"chose lambda_{metrics['path']['selected']}" in text
    # Against the baselines, in words computed from metrics.json's numbers; every CV measure shown.
    from kerasnet.path.baselines import baseline_sentences, verdict

    info = metrics["path"]
    record = info["baselines"]
    assert record["null_mean"] > 0 and record["linear_mean"] is not None
    assert "Baselines on the" in result.output
    first = baseline_sentences(record, [(f"lambda_{info['selected']}", info["cv_mean"], info["cv_se"])])[0]
    assert first.replace("+-", "&plusmn;") in text
    words = {"beats": "beats the null", "within": "within one SE of the null", "loses": "loses to the null"}
    assert words[verdict(info["cv_mean"], info["cv_se"], record["null_mean"], False)] in first
    assert "<th>cv_class</th>" in text and "misclassification error" in text


def test_the_report_names_the_data_file_as_given(tmp_path, monkeypatch):
    """A relative path stays as typed, nowhere made absolute; an absolute one (older runs recorded
    them) is shown as its file name."""
    from kerasnet.runs.reading import data_source

    rng = np.random.default_rng(0)
    monkeypatch.chdir(tmp_path)
    os.mkdir("tables")
    pd.DataFrame({"a": rng.normal(size=30), "y": rng.integers(0, 2, 30)}).to_csv("tables/t.csv", index=False)
    result = invoke("fit", os.path.join("tables", "t.csv"), "--target", "y", "--epochs", "1", "--hidden", "2",
                    "--out", "run")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["settings"]["data"] == os.path.join("tables", "t.csv")
    text = (tmp_path / "run" / REPORT).read_text(encoding="utf-8")
    assert os.path.join("tables", "t.csv") in text and str(tmp_path) not in text
    assert data_source({"settings": {"data": "/home/someone/data/t.csv"}}) == "t.csv"
    assert data_source({"settings": {"data": "dataset:iris"}}) == "dataset:iris"
