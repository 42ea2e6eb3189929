"""``kerasnet predict`` for regression: the written values are the saved model's predictions."""

from io import StringIO

import keras
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kerasnet.cli import cli
from kerasnet.data import Preprocessor


def _table(n=80, seed=0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({
        "id": np.arange(n),
        "x1": x1,
        "x2": x2,
        "price": 3.0 * x1 - 2.0 * x2 + 0.1 * rng.normal(size=n),
    })


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    csv = tmp_path_factory.mktemp("data") / "train.csv"
    _table().to_csv(csv, index=False)
    out = tmp_path_factory.mktemp("runs") / "reg"
    result = CliRunner().invoke(cli, ["fit", str(csv), "--target", "price", "--drop", "id", "--hidden", "8",
                                      "--epochs", "40", "--batch-size", "16", "--learning-rate", "0.02",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_regression_predictions_are_the_models_values(run_dir, tmp_path):
    new = _table(n=25, seed=3)
    path = tmp_path / "new.csv"
    new.drop(columns="price").to_csv(path, index=False)
    result = CliRunner().invoke(cli, ["predict", str(run_dir), str(path)])
    assert result.exit_code == 0, result.output
    preds = pd.read_csv(StringIO(result.stdout))
    assert list(preds.columns) == ["id", "predicted_price"]
    assert preds["id"].tolist() == new["id"].tolist()
    model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True, compile=False)
    pre = Preprocessor.load(run_dir / "preprocessing.json")
    expected = model.predict(pre.transform(new), verbose=0)[:, 0]
    np.testing.assert_allclose(preds["predicted_price"], expected, rtol=1e-5, atol=1e-6)
    # Values in the target's units that track it, not a constant.
    values = preds["predicted_price"].to_numpy()
    assert values.std() > 0.5 * new["price"].std()
    assert np.corrcoef(values, new["price"])[0, 1] > 0.9
