"""Checks of a saved preprocessing state (``preprocessing.json``) before the Preprocessor uses it.

A hand-edited, truncated or foreign file is refused in one line naming its bad entry
(:class:`~kerasnet.errors.InputError`), rather than failing at predict time with a KeyError
or giving predictions that mean nothing.
"""

from __future__ import annotations

import math

from .errors import InputError, short

__all__ = ["check_state"]


def _damaged(what: str) -> InputError:
    return InputError(f"the preprocessing file is damaged or not kerasnet's: {what}; copy preprocessing.json "
                      "again from the run folder, or refit the model.")


def check_state(state: dict) -> None:
    """Refuse a state that :meth:`kerasnet.Preprocessor.from_dict` could not use, naming its bad entry.

    A hand-edited or truncated file would otherwise fail later with a KeyError or TypeError, or
    give predictions that mean nothing (one class left, a scale of 0).
    """
    from .tasks import TASKS

    for key in ("task", "columns", "feature_names"):
        if key not in state:
            raise _damaged(f"it has no {key!r} entry")
    if state["task"] not in TASKS:
        raise _damaged(f"its task {short(state['task'])!r} is not one of {', '.join(TASKS)}")
    columns, names = state["columns"], state["feature_names"]
    if not isinstance(columns, list) or not isinstance(names, list):
        raise _damaged("'columns' and 'feature_names' must be lists")
    width = 0
    for spec in columns:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise _damaged(f"a 'columns' entry is not a column with a name: {short(spec)!r}")
        label = f"column {short(spec['name'])!r}"
        if spec.get("kind") == "numeric":
            for key in ("mean", "scale"):
                value = spec.get(key)
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise _damaged(f"{label} has no finite {key!r}")
            if spec["scale"] <= 0:
                raise _damaged(f"{label} has scale {spec['scale']!r}, not a number > 0")
            width += 1
        elif spec.get("kind") == "categorical":
            categories = spec.get("categories")
            if not isinstance(categories, list) or not categories:
                raise _damaged(f"{label} has no list of categories")
            width += len(categories)
        else:
            raise _damaged(f"{label} has kind {short(spec.get('kind'))!r}, not 'numeric' or 'categorical'")
    if len(names) != width:
        raise _damaged(f"it lists {len(names)} feature names for columns that encode {width} features")
    offset = state.get("offset_column")
    if offset is not None and not isinstance(offset, str):
        raise _damaged(f"its offset_column {short(offset)!r} is not a column name")
    classes = state.get("classes")
    if state["task"] in ("binary", "multiclass") and classes is not None:
        if not isinstance(classes, list) or len(set(map(str, classes))) < 2:
            raise _damaged(f"task {state['task']!r} needs at least 2 distinct classes, it lists "
                           f"{short(classes)!r}")
        if state["task"] == "binary" and len(classes) != 2:
            raise _damaged(f"task 'binary' needs exactly 2 classes, it lists {len(classes)}")
