"""The package's structure: no import cycle, and every private Keras API it reads is documented.

Imports are read from the source (``ast``), not by importing. At import time (module and class
bodies, ``if`` / ``try`` blocks at the top; not ``if TYPE_CHECKING:``) there must be no cycle at
all. Imports inside functions run later, once every module is loaded, so they cannot cut a module
off half-initialized; they are how an optional or heavy dependency (torch, dask, the CLI's
libraries) is put off. They are allowed, but may close a cycle only where ``DEFERRED_CYCLES`` says
so: a cycle hidden in a function is still two modules that cannot be read apart.
"""

from __future__ import annotations

import ast
import pathlib
import re

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "kerasnet"
DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def _module_name(file):
    parts = list(file.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(f): f for f in PACKAGE.rglob("*.py")}


def _imports(tree, deferred=False):
    """The import statements that run at import time (not in functions, not for type checkers);
    ``deferred``: every import statement, those in functions too."""
    if deferred:
        yield from (node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)))
        return
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                pending += node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
        elif isinstance(node, (ast.ClassDef, ast.With)):
            pending += node.body


def _targets(name, node):
    """The kerasnet modules an import statement of module ``name`` loads."""
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    base = package
    for _ in range(node.level - 1):
        base = base.rpartition(".")[0]
    base = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
    found = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]  # submodules
    return found + ([base] if base in MODULES and len(found) < len(node.names) else [])


def import_graph(deferred=False):
    """``{module: set of kerasnet modules it imports}`` at import time (``deferred``: at any time)."""
    graph = {}
    for name, file in MODULES.items():
        tree = ast.parse(file.read_text(), str(file))
        graph[name] = {t for node in _imports(tree, deferred) for t in _targets(name, node)} - {name}
    return graph


def cycles(graph):
    """The modules that import each other, directly or around a loop: the strongly connected
    components of ``graph`` with more than one module (Tarjan's algorithm), each a set."""
    index, low, stack, found = {}, {}, [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = stack[stack.index(node):]
            del stack[stack.index(node):]
            if len(component) > 1:
                found.append(set(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# The command line's helpers call each other when a command runs (the checks before the heavy
# imports need the path command's column rule, which needs the options module): deferred imports
# in functions, never at import time.
DEFERRED_CYCLES = [{"kerasnet.cli._columns", "kerasnet.cli._common", "kerasnet.cli.path"}]


def test_the_cycle_finder_finds_cycles_and_accepts_a_tree():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_the_graph_sees_relative_package_and_deferred_imports():
    graph = import_graph()
    assert "kerasnet.path.step" in graph["kerasnet.path.runners"]  # from .step import ...
    assert "kerasnet.path.defaults" in graph["kerasnet.path.fit"]  # from . import defaults
    assert "kerasnet.penalty" in graph["kerasnet.path.pipeline"]  # from ..penalty import ...
    assert "kerasnet.cli._columns" not in graph["kerasnet.cli._common"]  # imported in a function
    assert "kerasnet.cli._columns" in import_graph(deferred=True)["kerasnet.cli._common"]


def test_the_package_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_deferred_imports_close_no_cycle_but_the_command_lines():
    # runners and torch_runner imported each other (one of them in a function) until the stacked
    # member operations and the loop runner got modules of their own.
    assert cycles(import_graph(deferred=True)) == DEFERRED_CYCLES


def _private_keras_names():
    """Private attributes (``x._name``) read in src on objects other than ``self`` / ``cls``."""
    names = set()
    for file in MODULES.values():
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Attribute) and re.fullmatch(r"_[a-z]\w*", node.attr):
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls", "os")):
                    names.add(node.attr)
    return names


def test_every_private_keras_api_in_src_is_in_the_architecture_notes():
    section = DOCS.read_text().split("## Private Keras APIs", 1)[1]
    documented = set(re.findall(r"`[^`]*?\.?(_[a-z]\w*)", section))
    assert _private_keras_names() - documented == set()
    assert "keras.src" not in "".join(f.read_text() for f in MODULES.values()).replace(
        "keras.src.models.Functional", "").replace("keras.src.backend.common import global_state", "")
