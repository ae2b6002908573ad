"""The house rules a reader relies on: no import circles, and modules that fit in a head."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "pages")
MAX_LINES = 350


def modules() -> dict[str, Path]:
    """Every module of core/ and pages/ by its dotted name, and Home.py as "Home"."""
    found = {f"{p.parent.name}.{p.stem}": p for pkg in PACKAGES
             for p in sorted((ROOT / pkg).glob("*.py")) if p.stem != "__init__"}
    return found | {"Home": ROOT / "Home.py"}


def imports(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports anywhere in it (a function's lazy import counts)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found & known


def circle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path of imports from `start` back to itself, if there is one."""
    stack, seen = [(start, [start])], set()
    while stack:
        name, path = stack.pop()
        for nxt in graph[name]:
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


def test_no_module_imports_a_module_that_imports_it():
    found = modules()
    graph = {name: imports(path, set(found)) - {name} for name, path in found.items()}
    circles = [c for c in (circle_from(name, graph) for name in graph) if c]
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_the_walk_sees_the_imports_it_checks():
    graph = {name: imports(path, set(modules())) for name, path in modules().items()}
    assert "core.kinds" in graph["pages.train"]
    assert "core.datasets" in graph["core.cifar"]


def test_every_module_fits_in_a_head():
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
