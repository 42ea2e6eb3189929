"""The examples in the pure modules' docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = [
    "kerasnet.path.grid", "kerasnet.proximal", "kerasnet.data", "kerasnet.tasks", "kerasnet.preprocessing",
    "kerasnet.penalty", "kerasnet.path.baselines", "kerasnet.standardization",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples to run"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
