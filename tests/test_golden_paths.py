"""Golden paths: a few tiny fits must give the numbers recorded in ``tests/golden/<backend>.json``.

They are the safety net of a restructuring of the path's code (issue 24): the MLP on a binary and
a regression target (one with the default grid's probe, extension and baselines), a user's CNN,
feature selection with its adaptive path and relax, Poisson with an offset, Cox, and a Dask split.
The numbers are recorded per backend (JAX and torch differ in the last bits of float32 work);
``python tests/golden/make.py`` rewrites them for the current backend, by hand only
(``tests/golden/cases.py`` says what each case records).

Tolerances: integers (strength indices, stopping epochs, Df, kept features, diverged flags) are
exact. Floats are compared to a relative 1e-4 (absolute 1e-6 near zero): the fits train in float32,
where reordering a sum of a few hundred terms (a restructured reduction, another batch layout of
the same rows) moves a result by about 1e-6 relative, and a few dozen optimizer steps of these small
networks keep that under about 1e-5; a wrong row set, one epoch more or less, or a wrong scaling
moves the CV means and outputs by 1e-3 or more. For scale: JAX and torch, whose kernels share
no code, give CV means of the MLP cases within 2e-7 relative of each other (5e-5 for feature
selection with relax; the CNN's convolutions differ more, 7e-3, hence one file per backend).
"""

from __future__ import annotations

import importlib.util
import json
import pathlib

import keras
import numpy as np
import pytest

GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"
RTOL, ATOL = 1e-4, 1e-6

pytestmark = pytest.mark.backend


def _load_cases():
    spec = importlib.util.spec_from_file_location("golden_cases", GOLDEN / "cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cases = _load_cases()


@pytest.fixture(scope="module")
def golden():
    file = GOLDEN / cases.golden_name()
    command = f"KERAS_BACKEND={keras.backend.backend()} python tests/golden/make.py"
    if not file.exists():
        if "-" in file.stem:  # an accelerator: its numbers are recorded only when someone chose to
            pytest.skip(f"no golden numbers on this device ({file.name}): {command}")
        pytest.fail(f"no golden numbers for the {keras.backend.backend()} backend: {command}")
    return json.loads(file.read_text())


def assert_matches(got, want, where=""):
    """``got`` equals ``want``: integers and flags exactly, floats to RTOL / ATOL, key for key."""
    if isinstance(want, dict):
        assert sorted(got) == sorted(want), where
        for key in want:
            assert_matches(got[key], want[key], f"{where}.{key}")
        return
    if want is None:
        assert got is None, where
        return
    expected, actual = np.asarray(want), np.asarray(got)
    assert actual.shape == expected.shape, where
    if expected.dtype.kind in "biu":  # indices, epochs, counts, flags: no tolerance
        np.testing.assert_array_equal(actual, expected, err_msg=where)
    else:
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=where)


@pytest.mark.parametrize("name", list(cases.CASES))
def test_path_reproduces_its_golden_numbers(name, golden):
    if name in cases.NEEDS:
        pytest.importorskip(cases.NEEDS[name], reason=f"the {name} case needs {cases.NEEDS[name]}")
    assert name in golden, f"no golden numbers for {name}: python tests/golden/make.py {name}"
    path, rows = cases.CASES[name]()
    try:
        assert_matches(cases.record(path, rows), golden[name], name)
    except AssertionError as err:  # an upgraded library may move the last digits: say which were used
        raise AssertionError(f"{err}\n(recorded with {golden.get('_recorded_with')})") from None


def test_the_comparison_catches_a_changed_epoch_and_a_float_beyond_tolerance(golden):
    # The checker itself: one stopping epoch off, or a CV mean moved by 1e-3 relative, fails it.
    want = golden["mlp_regression"]
    epochs = [[e + (i == j == 0) for j, e in enumerate(row)] for i, row in enumerate(want["best_epoch"])]
    with pytest.raises(AssertionError):
        assert_matches({**want, "best_epoch": epochs}, want)
    with pytest.raises(AssertionError):
        assert_matches({**want, "cv_mean": [v * (1 + 1e-3) for v in want["cv_mean"]]}, want)
    assert_matches({**want, "cv_mean": [v * (1 + 1e-6) for v in want["cv_mean"]]}, want)
