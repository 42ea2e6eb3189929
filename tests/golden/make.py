"""Rewrite the golden numbers of the current Keras backend: never run by the tests.

    python tests/golden/make.py                       # JAX: tests/golden/jax.json
    KERAS_BACKEND=torch python tests/golden/make.py   # torch: tests/golden/torch.json
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


def golden_file(backend=None):
    """The golden file of ``backend`` (default: Keras's current one)."""
    return HERE / f"{backend or keras.backend.backend()}.json"


def main(names):
    target = golden_file()
    golden = json.loads(target.read_text()) if target.exists() else {}
    for name in names or list(cases.CASES):
        path, rows = cases.CASES[name]()
        golden[name] = cases.record(path, rows)
        print(f"{name}: recorded", file=sys.stderr)
    target.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
