"""`import kerasnet` picks JAX only when the user has not chosen a backend."""

import json
import os
import subprocess
import sys

import pytest

PROBE = "import kerasnet, keras; print(keras.backend.backend())"


def _backend_in_fresh_process(tmp_path, keras_json=None, env_backend=None):
    home = tmp_path / "keras_home"
    home.mkdir()
    if keras_json is not None:
        (home / "keras.json").write_text(json.dumps(keras_json))
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["KERAS_HOME"] = str(home)
    if env_backend:
        env["KERAS_BACKEND"] = env_backend
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_defaults_to_jax_when_nothing_is_configured(tmp_path):
    assert _backend_in_fresh_process(tmp_path) == "jax"


def test_keeps_the_environment_choice(tmp_path):
    pytest.importorskip("torch")
    assert _backend_in_fresh_process(tmp_path, env_backend="torch") == "torch"


def test_keeps_the_keras_json_choice(tmp_path):
    pytest.importorskip("torch")
    assert _backend_in_fresh_process(tmp_path, keras_json={"backend": "torch"}) == "torch"


def test_ignores_keras_self_written_tensorflow_default_without_tensorflow(tmp_path):
    import importlib.util

    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("TensorFlow is installed, so keras.json's tensorflow entry is usable")
    assert _backend_in_fresh_process(tmp_path, keras_json={"backend": "tensorflow"}) == "jax"
