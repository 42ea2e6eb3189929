"""examples/l1_l2_regularization.ipynb runs top to bottom (few epochs), so the tutorial stays true."""

import pathlib

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is needed to run the example notebook")
nbclient = pytest.importorskip("nbclient", reason="nbclient + ipykernel are needed to run it")

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "examples" / "l1_l2_regularization.ipynb"


def test_example_notebook_runs(tmp_path, monkeypatch):
    # The kernel inherits this environment: few epochs (and KERAS_BACKEND, when set).
    monkeypatch.setenv("KERASNET_EPOCHS", "3")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    nbformat.write(notebook, tmp_path / "executed.ipynb")  # for a look when it fails
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    # The cells did what they say: the path chose a strength, pruning kept the predictions.
    assert "lambda_1se = " in text and "largest prediction difference after pruning" in text
    assert "CNN lambda_1se = " in text and "'Conv2D'" in text  # fit_path(model=...) on a CNN
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 3  # curves, histograms, path
