"""Rewrite the golden numbers of the current Keras backend: never run by the tests.

    python tests/golden/make.py                       # JAX: tests/golden/jax.json
    KERAS_BACKEND=torch python tests/golden/make.py   # torch: tests/golden/torch.json
    (on a GPU: jax-gpu.json, torch-gpu.json; torch on an AMD CPU: torch-amd.json; the tests
    skip there when that file is absent)
    python tests/golden/make.py cox user_cnn          # only these cases (the others are kept)

Run it only when a change of the numbers is intended and understood (a new default, a fixed
bug), and say so in the commit; a restructuring of the code must pass the old file unchanged.
"""

from __future__ import annotations

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cases  # noqa: E402  (kerasnet first: it picks the backend before keras is imported)
import keras  # noqa: E402

VERSIONS = "_recorded_with"


def golden_file():
    """The golden file of Keras's current backend on this machine's device."""
    return HERE / cases.golden_name()


def versions():
    """The libraries the numbers were recorded with (a mismatch after an upgrade says why)."""
    import importlib.metadata as metadata

    names = ["keras", "numpy", "jax" if keras.backend.backend() == "jax" else "torch"]
    return {name: metadata.version(name) for name in names}


def main(names):
    target = golden_file()
    golden = json.loads(target.read_text()) if target.exists() else {}
    golden[VERSIONS] = versions()
    for name in names or list(cases.CASES):
        path, rows = cases.CASES[name]()
        golden[name] = cases.record(path, rows)
        print(f"{name}: recorded", file=sys.stderr)
    target.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
