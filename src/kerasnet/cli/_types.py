"""The command line's option types and the bounds they enforce (naming the flag in each refusal)."""

from __future__ import annotations

import math

import click

#: Upper bounds of the command line's counts: beyond them a run would train until killed or
#: exhaust the memory of any machine, so they are refused up front, naming the flag.
MAX_EPOCHS = 100_000
MAX_COUNT = 10_000  # --n-lambdas, --cv, --n-pairs, --patience
MAX_BATCH_SIZE = 10_000_000
MAX_UNITS = 100_000  # units of one hidden layer
MAX_LAYERS = 100
MAX_HIDDEN_WEIGHTS = 10**8  # weights between consecutive hidden layers (400 MB in float32)
MAX_SEED = 2**32 - 1  # numpy's and scikit-learn's seeds are 32-bit unsigned


def count(low: int, high: int):
    """A click integer type in ``[low, high]`` (the message names the flag and the range)."""
    return click.IntRange(min=low, max=high)


class _CountOrAuto(click.IntRange):
    """An integer in ``[low, high]`` or ``auto`` (None: the library's rule of the row count)."""

    def convert(self, value, param, ctx):
        if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
            return None
        return super().convert(value, param, ctx)

    def get_metavar(self, param, ctx=None):
        return "[INTEGER|auto]"


def count_or_auto(low: int, high: int):
    """A click type: an integer in ``[low, high]``, or ``auto`` for None."""
    return _CountOrAuto(min=low, max=high)


SEED = count(0, MAX_SEED)


class FiniteRange(click.FloatRange):
    """A ``click.FloatRange`` that also refuses ``nan`` (which compares false with both ends)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number; give one in {self._describe_range()}.", param, ctx)
        return number


#: Larger strengths zero every weight of a standardized problem many times over; they only
#: overflow float32 losses, so the command line refuses them up front.
MAX_STRENGTH = 1e6
#: Adam's steps are about the learning rate in size; beyond this every run diverges.
MAX_LEARNING_RATE = 10.0


class Strength(click.ParamType):
    """A penalty strength: a finite number >= 0."""

    name = "strength"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number; give a non-negative number such as 1e-4.", param, ctx)
        # The library's check_strength, without importing Keras to parse a flag.
        if not (math.isfinite(number) and number >= 0):
            self.fail(f"{value!r} must be a finite number >= 0, such as 1e-4.", param, ctx)
        if number > MAX_STRENGTH:
            self.fail(f"{value!r} is far too large: any strength above {MAX_STRENGTH:g} drives every weight "
                      "to zero (and larger ones overflow); give a number such as 1e-4.", param, ctx)
        return number


class Ratios(click.ParamType):
    """``l1_ratio`` values in [0, 1]: one number (a float), or several comma-separated, distinct (a tuple),
    which the path cross-validates too (glmnet's ``cva.glmnet``)."""

    name = "ratio[,ratio...]"

    def convert(self, value, param, ctx):
        if isinstance(value, (float, tuple)):
            return value
        values = []
        for part in str(value).split(","):
            try:
                number = float(part)
            except ValueError:
                self.fail(f"{part.strip()!r} is not a number; give values in [0, 1] such as 0.5 or "
                          "0.1,0.5,1.", param, ctx)
            if not math.isfinite(number):
                self.fail(f"{part.strip()!r} is not a finite number; give values in [0, 1] such as 0.5 or "
                          "0.1,0.5,1.", param, ctx)
            if not 0 <= number <= 1:
                self.fail(f"{part.strip()!r} is not in [0, 1]; give values in [0, 1] such as 0.5 or "
                          "0.1,0.5,1.", param, ctx)
            values.append(number)
        if len(set(values)) != len(values):
            self.fail(f"{value!r} repeats a value; give each l1_ratio once, such as 0.1,0.5,1.", param, ctx)
        return values[0] if len(values) == 1 else tuple(values)


class LearningRate(click.ParamType):
    """An optimizer step size: a finite number in (0, MAX_LEARNING_RATE]."""

    name = "rate"

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number; give a step size such as 1e-3.", param, ctx)
        if not (math.isfinite(number) and 0 < number <= MAX_LEARNING_RATE):
            self.fail(f"{value!r} must be a finite number in (0, {MAX_LEARNING_RATE:g}]; Adam's usual step "
                      "sizes are 1e-4 to 1e-2, such as 1e-3.", param, ctx)
        return number


class Hidden(click.ParamType):
    """Hidden layer sizes as comma-separated positive integers: ``64,64``; ``none`` for no hidden layer."""

    name = "sizes"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        text = str(value).strip()
        if text.lower() in ("", "none", "0"):
            return ()
        parts = [p.strip() for p in text.split(",")]
        sizes = [int(p) for p in parts if p.isdigit()]
        between = sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))
        if len(sizes) == len(parts) and (max(sizes) > MAX_UNITS or len(parts) > MAX_LAYERS
                                         or between > MAX_HIDDEN_WEIGHTS):
            self.fail(f"{value!r} is beyond any machine's memory or time; give at most {MAX_LAYERS} sizes in "
                      f"1 to {MAX_UNITS}, at most {MAX_HIDDEN_WEIGHTS:.0e} weights between hidden layers, "
                      "such as 64,64.", param, ctx)
        if not all(p.isdigit() and int(p) > 0 for p in parts):
            self.fail(
                f"{value!r} is not a list of layer sizes; give positive integers separated by "
                "commas, such as 64,64 (or 'none' for a linear model).",
                param,
                ctx,
            )
        return tuple(int(p) for p in parts)


class Listed(click.ParamType):
    """Comma-separated distinct values, each checked by ``item`` (a click type): ``1e-3,3e-3``.

    A search's values of one setting (``kerasnet search --learning-rate 1e-3,3e-3``); always a tuple.
    """

    def __init__(self, item, example):
        self.item, self.example = item, example
        self.name = f"{item.name}[,{item.name}...]"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        values = tuple(self.item.convert(part.strip(), param, ctx) for part in str(value).split(","))
        if len(set(values)) != len(values):
            self.fail(f"{value!r} repeats a value; give each once, such as {self.example}.", param, ctx)
        return values


class Columns(click.ParamType):
    """Comma-separated column names."""

    name = "cols"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        return tuple(c.strip() for c in str(value).split(",") if c.strip())


STRENGTH, HIDDEN, COLUMNS, LEARNING_RATE = Strength(), Hidden(), Columns(), LearningRate()
