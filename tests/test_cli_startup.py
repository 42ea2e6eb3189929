"""The command line answers without the heavy imports; saved Keras objects load after ``import kerasnet``.

Functional checks in fresh processes (no timing): parsing ``--help``, ``--version``, a command's
help and the usage errors leaves Keras, JAX, scikit-learn, torch, pandas, numpy and rich
unimported (numpy alone was most of what such an answer cost once Keras was off it); and the
lazy ``import kerasnet`` still registers kerasnet's Keras objects as soon as Keras is imported,
so ``keras.saving.load_model(..., safe_mode=True)`` finds them.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("keras", "jax", "sklearn", "torch", "pandas", "matplotlib", "scipy")
#: What the command line's quick answers must not import either (``import kerasnet`` may: the
#: library's public API is numpy's).
HEAVY_FOR_THE_CLI = (*HEAVY, "numpy", "rich")
COMMANDS = ("compare", "demo", "fit", "path", "predict", "report", "search", "select")
SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def _python(code, cwd=None):
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            env=env, cwd=cwd, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def test_help_version_and_usage_errors_import_nothing_heavy(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,0\n3,4,1\n")
    result = _python(f"""
        import json, sys
        from kerasnet.cli import cli
        codes = []
        for args in (["--help"], ["--version"], ["path", "--help"], ["fit", "--help"], ["nope"],
                     ["path", "missing.csv", "--target", "y", "--out", "o"],
                     ["path", "d.csv", "--target", "yy", "--out", "o"],
                     ["path", "d.csv", "--target", "y", "--weights-column", "w", "--out", "o"],
                     ["fit", "d.csv", "--target", "y", "--l1", "1e-3", "--drop", "zz", "--out", "o"],
                     ["predict", "nodir", "missing.csv"], ["predict", "nodir", "d.csv"]):
            try:
                cli.main(args)
            except SystemExit as exit:
                codes.append(exit.code)
        heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY_FOR_THE_CLI!r}))
        print(json.dumps({{"codes": codes, "heavy": heavy}}))
    """, cwd=tmp_path)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["codes"] == [0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2]
    assert report["heavy"] == []
    errors = result.stderr.strip().splitlines()
    assert errors == [
        "kerasnet: error: No such command 'nope'. (see 'kerasnet --help')",
        "kerasnet: error: data file 'missing.csv' does not exist; check the path.",
        "kerasnet: error: --target yy is not a column of the data (columns: a, b, y); give one of the "
        "columns.",
        "kerasnet: error: --weights-column 'w' is not a column of the data (columns: a, b, y); check the "
        "name.",
        "kerasnet: error: --drop names columns not in the data: zz; check the names.",
        "kerasnet: error: data file 'missing.csv' does not exist; check the path.",
        "kerasnet: error: 'nodir' is not a kerasnet fit folder (model.keras is missing); give the --out "
        "folder of kerasnet fit.",
    ]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["nope"], ["--nope"], ["pth", "--help"],
                                  *([command, "--help"] for command in COMMANDS)],
                         ids=lambda args: " ".join(args))
def test_each_quick_answer_alone_through_the_console_entry_point_imports_no_numpy(args):
    """Each answer in its own fresh process, through ``kerasnet_launcher.main`` (what the console
    script runs), so no earlier answer's imports can hide one that pulls numpy in."""
    result = _python(f"""
        import json, sys
        from kerasnet_launcher import main
        try:
            code = main({args!r})
        except SystemExit as exit:
            code = exit.code
        heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY_FOR_THE_CLI!r}))
        print(json.dumps({{"code": code, "heavy": heavy}}))
    """)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == (2 if args[0] in ("nope", "--nope", "pth") else 0)
    assert report["heavy"] == []
    if args == ["--version"]:
        assert "kerasnet" in result.stdout and any(ch.isdigit() for ch in result.stdout)
    elif report["code"] == 0:
        assert "Usage:" in result.stdout and "--help" in result.stdout
    else:
        assert "kerasnet: error:" in result.stderr


def test_the_measure_names_match_the_measures_module():
    """The command line's numpy-free table of measures is the one the library computes with."""
    from kerasnet.path import measure_names, measures

    assert measures.MEASURES is measure_names.MEASURES
    assert measures.check_measure is measure_names.check_measure
    with pytest.raises(ValueError, match="does not apply to task 'regression'"):
        measures.check_measure("auc", "regression")


def test_import_kerasnet_is_light_and_keeps_the_public_api():
    result = _python(f"""
        import json, sys
        import kerasnet
        light = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
        names = dir(kerasnet)
        ns = {{}}
        exec("from kerasnet import *", ns)
        print(json.dumps({{"light": light, "all_in_dir": all(n in names for n in kerasnet.__all__),
                          "star": sorted(n for n in ns if not n.startswith("__")) + ["__version__"],
                          "version": kerasnet.__version__, "prune": kerasnet.prune.__module__,
                          "fit_path": kerasnet.fit_path.__module__, "all": sorted(kerasnet.__all__)}}))
    """)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["light"] == []
    assert report["all_in_dir"]
    assert sorted(report["star"]) == report["all"]
    assert report["version"] and report["prune"] == "kerasnet.prune"
    assert report["fit_path"] == "kerasnet.path.fit"


@pytest.mark.parametrize("keras_first", [False, True])
def test_saved_kerasnet_objects_load_in_safe_mode_after_import_kerasnet(tmp_path, keras_first):
    """A model with kerasnet's penalties saved here loads in a fresh process after ``import kerasnet``
    (before or after ``import keras``), though ``import kerasnet`` itself imports no kerasnet.penalty."""
    import keras

    import kerasnet

    model = kerasnet.mlp(3, 1, (4,), "binary", penalty=kerasnet.ElasticNet(l1=0.01, l2=0.02), seed=0)
    first = model.layers[1]
    first.kernel_regularizer = kerasnet.GroupLasso(0.05)
    path = str(tmp_path / "m.keras")
    model.save(path)
    first, second = ("keras", "kerasnet") if keras_first else ("kerasnet", "keras")
    result = _python(f"""
        import json, os, sys
        os.environ.setdefault("KERAS_BACKEND", {keras.backend.backend()!r})
        import {first}
        penalty_after_first = "kerasnet.penalty" in sys.modules
        import {second}
        model = keras.saving.load_model({path!r}, safe_mode=True)
        kinds = sorted({{type(layer.kernel_regularizer).__qualname__ for layer in model.layers
                        if getattr(layer, "kernel_regularizer", None) is not None}})
        print(json.dumps({{"kinds": kinds, "penalty_after_first": penalty_after_first}}))
    """)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["kinds"] == ["ElasticNet", "GroupLasso"]
    # `import kerasnet` alone leaves kerasnet.penalty (and Keras) unimported: the registration
    # happened when Keras was imported.
    assert report["penalty_after_first"] is False


def test_a_kerasnet_module_importing_keras_registers_after_it_has_run():
    """``import kerasnet.models`` (which imports Keras halfway through) ends with every registering
    module imported, and no half-run module was asked for its names."""
    result = _python("""
        import sys
        import kerasnet.models
        from kerasnet import _registration
        assert _registration.registered()
        assert all(f"kerasnet.{name}" in sys.modules for name in _registration.REGISTERING)
        import keras
        assert keras.saving.get_registered_object("kerasnet>ElasticNet") is not None
        print("ok")
    """)
    assert result.stdout.strip().endswith("ok")
