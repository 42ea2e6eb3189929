"""The ``kerasnet`` command line: parse, call the library, print.

Each command lives in its own module exposing ``command`` (a click command);
:data:`COMMANDS` lists them and :func:`register` adds them to the group. Errors are one
line on stderr: exit code 2 for bad input or usage, 1 for an unexpected failure.
"""

from __future__ import annotations

import click

from . import compare, demo, fit, path, predict, report, search, select
from ._common import Group

__all__ = ["COMMANDS", "cli", "main", "register"]

#: Modules whose ``command`` the group offers, in help order.
COMMANDS = (demo, fit, path, search, select, compare, predict, report)


@click.group(name="kerasnet", cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kerasnet", prog_name="kerasnet")
def cli():
    """kerasnet: elastic-net (L1-L2) regularized neural networks on Keras 3."""


def register(group, modules=COMMANDS):
    """Add each module's ``command`` to ``group``."""
    for module in modules:
        group.add_command(module.command)
    return group


register(cli)


def main(args=None):
    """Run the command line (the ``kerasnet`` console script); exits with its status code."""
    return cli.main(args=args, prog_name="kerasnet")
