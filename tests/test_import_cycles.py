"""The package has no import cycles, counting every import: top-level, ``TYPE_CHECKING`` and
function-level ones (found by parsing the sources with :mod:`ast`, nothing is imported)."""

from __future__ import annotations

import ast
from pathlib import Path

import redaes

PKG_DIR = Path(redaes.__file__).parent


def _module_names() -> dict[str, Path]:
    """``dotted module name -> file`` for every module of the package."""
    out: dict[str, Path] = {}
    for path in PKG_DIR.rglob("*.py"):
        rel = path.relative_to(PKG_DIR.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Package modules that module ``name`` imports anywhere in its source."""
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_pkg else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a.b import c` imports the submodule a.b.c when it is one, else a name of a.b
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import a.b.c` where c is not a module
                target = target.rpartition(".")[0]
            # an ancestor package (``from redaes import __version__``) is not counted: Python
            # runs it before any of its modules anyway, so it is never the start of a loop
            if target and target != name and not name.startswith(target + "."):
                found.add(target)
    return found


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def _graph() -> dict[str, set[str]]:
    modules = _module_names()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_cycle_finder_finds_a_cycle() -> None:
    """The finder itself works (a cycle through a function-level import counts)."""
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_graph_sees_type_checking_and_function_imports() -> None:
    graph = _graph()
    assert "redaes.errors" in graph["redaes.pairs.plan"]
    assert "redaes.edits" in graph["redaes.pairs.plan"]  # imported inside Planner.__init__
    assert "redaes.models" in graph["redaes.assessors"]  # inside a function
    assert "redaes" not in graph["redaes.pairs.storage"]  # an ancestor: implied, not counted


def test_package_has_no_import_cycles() -> None:
    cycle = _find_cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])
