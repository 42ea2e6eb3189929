"""The persistent XLA compilation cache: where it goes, how it is switched off, what it keeps."""

import os
import subprocess
import sys

import keras
import pytest

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax",
                                reason="an XLA cache is a JAX-backend feature")

SCRIPT = """
import jax, numpy as np, kerasnet
print(jax.config.jax_compilation_cache_dir or "none")
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
kerasnet.fit_path(X, y, hidden=(4,), n_lambdas=2, cv=2, epochs=2, seed=0, verbose=0, baselines=False)
"""
# baselines=False: the linear baseline is one more fit_path of the same engine, compiled the same way;
# the network path's probe, CV and refit programs are what the cache is checked on.


def _run(tmp_path, **env):
    base = {k: v for k, v in os.environ.items()
            if k not in ("KERASNET_XLA_CACHE", "JAX_COMPILATION_CACHE_DIR", "XDG_CACHE_HOME")}
    result = subprocess.run([sys.executable, "-c", SCRIPT], env={**base, "KERAS_BACKEND": "jax", **env},
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def _files(folder):
    return sum(len(names) for _, _, names in os.walk(folder)) if os.path.isdir(folder) else 0


def test_default_folder_is_the_users_cache_and_a_second_process_reads_it(tmp_path):
    home = tmp_path / "cache"
    folder = home / "kerasnet" / "xla"
    assert _run(tmp_path, XDG_CACHE_HOME=str(home)) == str(folder)
    written = _files(folder)
    assert written > 0  # the path's programs were kept
    # The same shapes in a new process: found in the cache, nothing new written.
    _run(tmp_path, XDG_CACHE_HOME=str(home))
    assert _files(folder) == written


def test_switched_off_or_moved_or_left_to_jax(tmp_path):
    home = tmp_path / "cache"
    assert _run(tmp_path, XDG_CACHE_HOME=str(home), KERASNET_XLA_CACHE="off") == "none"
    assert _files(home / "kerasnet") == 0
    other = tmp_path / "elsewhere"
    assert _run(tmp_path, KERASNET_XLA_CACHE=str(other)) == str(other) and _files(other) > 0
    mine = tmp_path / "jax-own"
    assert _run(tmp_path, JAX_COMPILATION_CACHE_DIR=str(mine), KERASNET_XLA_CACHE=str(other)) == str(mine)
