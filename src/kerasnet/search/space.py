"""A search space: which settings a search tries, and in what order of simplicity.

``space`` is a dict of setting to values, scikit-learn's ``param_grid`` (every combination,
:class:`sklearn.model_selection.ParameterGrid`) or, with ``n_iter``, ``param_distributions``
(a random sample, :class:`sklearn.model_selection.ParameterSampler`: lists or scipy
distributions). The settings are those of :func:`kerasnet.fit_path` that do not change what a
network computes beyond its width, each a per-member value of one stacked fit:

========================  ==============================================================
``"lambda"``               the elastic-net strength; absent: every configuration's own
                           path of ``n_lambdas`` strengths (:func:`strengths_for`)
``"l1_ratio"``             the elastic-net mix, in [0, 1]
``"learning_rate"``        Adam's step size, > 0
``"dropout"``              the dropout rate after every hidden layer, in [0, 1)
``"hidden"``               the hidden layer sizes, e.g. ``[(32,), (64,), (64, 64)]``
========================  ==============================================================

A setting left out takes :func:`kerasnet.fit_path`'s default.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, short
from ..path import defaults
from ..path.arguments import check_hidden

__all__ = ["Config", "KEYS", "configurations", "simplicity", "strengths_for"]

#: The settings a space may name, with their default values.
KEYS = {"lambda": None, "l1_ratio": defaults.L1_RATIO, "learning_rate": defaults.LEARNING_RATE,
        "dropout": 0.0, "hidden": defaults.HIDDEN}


@dataclass(frozen=True)
class Config:
    """One point of a space (``lam`` None: the configuration's own grid of strengths)."""

    lam: float | None
    l1_ratio: float
    learning_rate: float
    dropout: float
    hidden: tuple

    @property
    def units(self):
        """Hidden units in all (the network's size, for the simplicity order)."""
        return sum(self.hidden)

    def with_lam(self, lam):
        """The same configuration at strength ``lam``."""
        return Config(float(lam), self.l1_ratio, self.learning_rate, self.dropout, self.hidden)

    def as_dict(self):
        """The settings by name (``hidden`` as a tuple)."""
        return {"lambda": self.lam, "l1_ratio": self.l1_ratio, "learning_rate": self.learning_rate,
                "dropout": self.dropout, "hidden": self.hidden}


def _check(name, value):
    """One value of setting ``name``, checked (InputError naming the fix)."""
    if name == "hidden":
        sizes = check_hidden(value)
        if not sizes:
            raise InputError("hidden=() is the linear model, which has no width to search; give layer sizes "
                             "such as (32,) or use fit_path(hidden=()).")
        return sizes
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InputError(f"every {name} in the space must be a finite number; received {short(value)}.")
    value = float(value)
    ranges = {"lambda": (0 <= value, "a strength >= 0"), "l1_ratio": (0 <= value <= 1, "in [0, 1]"),
              "learning_rate": (value > 0, "> 0"), "dropout": (0 <= value < 1, "in [0, 1)")}
    ok, words = ranges[name]
    if not ok:
        raise InputError(f"every {name} in the space must be {words}; received {value!r}.")
    return value


def _options(name, values):
    """A setting's options as a list (a single value, or for ``hidden`` one tuple, is one option)."""
    if hasattr(values, "rvs"):  # a scipy distribution: sampled with n_iter
        return values
    single = np.ndim(values) == 0 if name != "hidden" else (
        isinstance(values, (numbers.Integral, tuple)) and not isinstance(values, bool))
    options = [values] if single else list(values)
    if not options:
        raise InputError(f"the space gives no value for {name}; give at least one or leave it out.")
    return options


def configurations(space, n_iter=None, seed=None):
    """Every configuration of ``space`` (or ``n_iter`` sampled ones), checked, in grid order.

    Parameters
    ----------
    space : dict or None
        Setting name to values (module docstring); None: fit_path's defaults alone.
    n_iter : int or None
        None: the whole grid. An int: that many configurations drawn with ``seed``
        (scikit-learn's ``ParameterSampler``; without replacement when every setting is a list).
    seed : int or None

    Returns
    -------
    list of Config
        Distinct configurations.
    """
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    space = {} if space is None else space
    if not isinstance(space, dict):
        raise InputError(f"space must be a dict of setting to values, such as {{'dropout': [0, 0.2]}}; "
                         f"received {type(space).__name__}.")
    unknown = sorted(set(space) - set(KEYS))
    if unknown:
        raise InputError(f"the space names {unknown[0]!r}, which a search does not vary; name only "
                         f"{', '.join(KEYS)}.")
    options = {name: _options(name, space.get(name, [default])) for name, default in KEYS.items()}
    if n_iter is None:
        if any(hasattr(v, "rvs") for v in options.values()):
            raise InputError("a distribution in the space needs n_iter (how many configurations to draw).")
        points = ParameterGrid(options)
    else:
        if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 1:
            raise InputError(f"n_iter must be a positive integer (configurations to draw); received "
                             f"{n_iter!r}.")
        points = _sampled(options, int(n_iter), seed, ParameterSampler)
    found = []
    for point in points:
        config = Config(None if point["lambda"] is None else _check("lambda", point["lambda"]),
                        *(_check(name, point[name]) for name in ("l1_ratio", "learning_rate", "dropout",
                                                                 "hidden")))
        if config not in found:
            found.append(config)
    return found


def _sampled(options, n_iter, seed, sampler):
    import warnings

    with warnings.catch_warnings():  # n_iter above the grid's size: the whole grid (the result counts it)
        warnings.simplefilter("ignore", UserWarning)
        return list(sampler(options, n_iter, random_state=seed))


def simplicity(config):
    """The key that sorts configurations simplest first: glmnet's one-standard-error rule carried
    over, the narrowest network (fewest hidden units, then fewest layers), then the most
    dropout, then the strongest penalty, then the largest L1 share (sparser)."""
    return (config.units, len(config.hidden), -config.dropout, -(config.lam or 0.0), -config.l1_ratio)


def strengths_for(gradient, l1_ratio, n_lambdas, lambda_min_ratio):
    """The strengths of a configuration without a ``lambda``: the network's default grid of
    :func:`kerasnet.path.grid.default_lambdas` (from the null model's gradient on all rows, the
    analytic bound of the top, down by ``lambda_min_ratio``), without the probe that
    :func:`kerasnet.fit_path` runs to lower the top to where the network empties."""
    from ..path.grid import lambdas_from_gradient

    return lambdas_from_gradient(gradient, l1_ratio, n_lambdas, lambda_min_ratio)
