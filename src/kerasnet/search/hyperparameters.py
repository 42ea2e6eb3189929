"""KerasTuner's ``build(hp)`` functions as grids: the part of ``HyperParameters`` they call, recording.

A KerasTuner user's model function declares its hyperparameters as it builds
(``hp.Choice("units", [32, 64])``, ``hp.Float("lr", 1e-4, 1e-2, step=10, sampling="log")``).
:class:`GridHyperParameters` answers those calls as KerasTuner's ``HyperParameters`` does (the
value set for a name, else its default) and records each name's options, so :func:`hp_grid`
can list every combination, as KerasTuner's ``GridSearch`` does. Hyperparameters that appear only
for some values of others (``for i in range(hp.Int("layers", 1, 3)): hp.Int(f"units_{i}", ...)``)
are found by building every combination; a combination is what its build read. KerasTuner is not
needed: the build function only calls these methods.
"""

from __future__ import annotations

import itertools
import math

from ..errors import InputError

__all__ = ["GridHyperParameters", "hp_grid"]

#: More combinations than this is no grid to train at once.
MAX_COMBINATIONS = 10_000


class GridHyperParameters:
    """Answers ``build(hp)``'s calls with set ``values`` (a dict) or each name's default, and
    records every name's options in ``space`` and the names this build read in ``used``."""

    def __init__(self, values=None):
        self.values, self.space, self.used = dict(values or {}), {}, {}

    def _declare(self, name, options, default):
        options = list(options)
        if not options:
            raise InputError(f"hyperparameter {name!r} has no values; give it at least one.")
        self.space.setdefault(name, options)
        value = self.values.get(name, options[0] if default is None else default)
        self.used[name] = value
        return value

    def Choice(self, name, values, ordered=None, default=None, **_):
        """One of ``values`` (KerasTuner's ``hp.Choice``)."""
        return self._declare(name, values, default)

    def Int(self, name, min_value, max_value, step=None, sampling="linear", default=None, **_):
        """An integer in ``[min_value, max_value]`` on KerasTuner's grid (``step`` added, or with
        ``sampling="log"`` multiplied; default 1 and 2)."""
        options = _ladder(name, int(min_value), int(max_value), step, sampling, int)
        return self._declare(name, options, default)

    def Float(self, name, min_value, max_value, step=None, sampling="linear", default=None, **_):
        """A number in ``[min_value, max_value]`` on the grid of ``step`` (required: a grid has
        to be finite)."""
        if step is None:
            raise InputError(f"hp.Float({name!r}, ...) has no step, so it has no grid; give step= (or use "
                             "hp.Choice with the values to try).")
        return self._declare(name, _ladder(name, float(min_value), float(max_value), step, sampling, float),
                             default)

    def Boolean(self, name, default=False, **_):
        """False or True."""
        return self._declare(name, [bool(default), not bool(default)], default)

    def Fixed(self, name, value, **_):
        """Always ``value``."""
        return self._declare(name, [value], value)

    def get(self, name):
        """A value declared earlier in this build."""
        if name not in self.used:
            raise InputError(f"hp.get({name!r}) before the hyperparameter was declared in the build "
                             "function.")
        return self.used[name]

    def __getitem__(self, name):
        return self.get(name)

    def conditional_scope(self, *args, **kwargs):
        raise InputError("hp.conditional_scope is not supported; declare the hyperparameter inside an "
                         "ordinary if (a combination is what its build reads).")


def _ladder(name, low, high, step, sampling, kind):
    if high < low:
        raise InputError(f"hyperparameter {name!r} has max_value {high} below min_value {low}.")
    values = []
    if sampling == "log":
        factor = 2 if step is None else step
        if not factor > 1 or not low > 0:
            raise InputError(f"hyperparameter {name!r} with sampling='log' needs min_value > 0 and a "
                             "step > 1.")
        value = low
        while value <= high * (1 + 1e-9):
            values.append(kind(value))
            value *= factor
    else:
        step = 1 if step is None else step
        count = int(math.floor((high - low) / step + 1e-9)) + 1
        values = [kind(low + i * step) for i in range(count)]
    return values


def hp_grid(build):
    """Every combination of ``build``'s hyperparameters: a list of dicts, each the values one build read
    (the order of KerasTuner's grid: the first name's values slowest)."""
    space, found, seen = {}, [], set()
    for _ in range(20):  # each round may find names that only some values declare
        grown = False
        names = list(space) or [None]
        options = [space[n] for n in space] or [[None]]
        total = math.prod(len(o) for o in options)
        if total > MAX_COMBINATIONS:
            raise InputError(f"the build function's hyperparameters make {total} combinations; a grid of at "
                             f"most {MAX_COMBINATIONS} trains at once (give fewer values).")
        found, seen = [], set()
        for combination in itertools.product(*options):
            hp = GridHyperParameters(dict(zip(names, combination, strict=True)) if space else {})
            build(hp)
            for name, values in hp.space.items():
                if name not in space:
                    space[name], grown = values, True
            key = tuple(sorted((k, repr(v)) for k, v in hp.used.items()))
            if key not in seen:
                seen.add(key)
                found.append(dict(hp.used))
        if not grown:
            return found
    raise InputError("the build function keeps declaring new hyperparameters; declare a fixed set.")
