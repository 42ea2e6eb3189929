"""``kerasnet fit``: the reported numbers against the saved model, and --seed reproducibility."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli
from kerasnet.data import Preprocessor, split_rows

L1, L2 = 1e-2, 2e-2
FAST = ["--epochs", "3", "--hidden", "4", "--batch-size", "16", "--l1", str(L1), "--l2", str(L2)]


def _table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    return pd.DataFrame({
        "x1": x1,
        "x2": rng.normal(size=n),
        "color": rng.choice(["red", "green", "blue"], n),
        "label": np.where(x1 + rng.normal(scale=0.5, size=n) > 0, "yes", "no"),
    })


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three fits of the same data: seed 1, seed 1 again, seed 2."""
    csv = tmp_path_factory.mktemp("data") / "train.csv"
    _table().to_csv(csv, index=False)
    root = tmp_path_factory.mktemp("runs")
    folders = {}
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        out = root / name
        result = CliRunner().invoke(cli, ["fit", str(csv), "--target", "label", *FAST, "--seed", str(seed),
                                          "--out", str(out)])
        assert result.exit_code == 0, result.output
        folders[name] = out
    return folders


def _metrics(folder):
    return json.loads((folder / "metrics.json").read_text())


def _weights(folder):
    return keras.saving.load_model(folder / "model.keras", safe_mode=True, compile=False).get_weights()


def _bce(p, y):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def test_data_loss_is_the_saved_models_cross_entropy(runs):
    """data_loss, penalty and loss recomputed from model.keras, preprocessing.json and the rows."""
    folder = runs["a"]
    metrics = _metrics(folder)
    frame = _table()
    pre = Preprocessor.load(folder / "preprocessing.json")
    model = keras.saving.load_model(folder / "model.keras", safe_mode=True, compile=False)
    kernels = [w for w in model.get_weights() if w.ndim == 2]
    penalty = sum(L1 * np.abs(k).sum() + L2 * np.square(k).sum() for k in kernels)
    y = (frame["label"] == "yes").to_numpy(float)
    train, valid = split_rows(len(frame), 0.2, y=frame["label"], task="binary", seed=1)
    prob = model.predict(pre.transform(frame), verbose=0)[:, 0]
    for split, rows in (("train", train), ("validation", valid)):
        row = metrics[split]
        assert row["n_rows"] == len(rows)
        assert row["penalty"] == pytest.approx(penalty, rel=1e-5)
        assert row["data_loss"] == pytest.approx(_bce(prob[rows], y[rows]), rel=1e-5)
        assert row["loss"] == pytest.approx(_bce(prob[rows], y[rows]) + penalty, rel=1e-5)
        assert row["accuracy"] == pytest.approx(np.mean((prob[rows] > 0.5) == y[rows]))
    assert metrics["train"]["penalty"] > 0.05  # the penalty is large enough to tell loss from data loss


def test_same_seed_same_run_other_seed_other_run(runs):
    a, b, c = (_metrics(runs[name]) for name in "abc")
    for split in ("train", "validation"):
        assert a[split] == b[split]
    for wa, wb in zip(_weights(runs["a"]), _weights(runs["b"]), strict=True):
        np.testing.assert_array_equal(wa, wb)
    for name in ("history.csv", "preprocessing.json"):
        assert (runs["a"] / name).read_text() == (runs["b"] / name).read_text()
    assert a["settings"]["seed"] == 1 and c["settings"]["seed"] == 2
    assert a["train"]["loss"] != c["train"]["loss"]
    assert max(np.abs(wa - wc).max() for wa, wc in zip(_weights(runs["a"]), _weights(runs["c"]),
                                                       strict=True)) > 1e-3
    # The seed also draws the validation rows: another seed holds out other rows.
    pre_a, pre_c = (Preprocessor.load(runs[k] / "preprocessing.json") for k in "ac")
    assert pre_a.columns_[0]["mean"] != pre_c.columns_[0]["mean"]
