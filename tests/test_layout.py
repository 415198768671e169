"""What the project's layout promises: its top-level packages import each other in one direction only
(so each can be read, tested and reused without the others that depend on it), the handoff plugin
imports nothing of the reference assistant, and Make and Python train and read the same model file."""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from rasa_bot.settings import PROJECT_ROOT
from rasa_bot.system import MODEL_PATH

PACKAGES = ("handoff", "actions", "rasa_bot", "bench")
ASSISTANT = ("actions", "rasa_bot", "bench")


def _imported_modules(path: Path) -> Iterator[str]:
    """Every module `path` imports absolutely, anywhere in the file (late imports inside functions too).

    Relative imports are left out: they cannot leave the file's own top-level package.
    """
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def package_imports() -> dict[str, dict[str, list[str]]]:
    """For each top-level package: the other top-level packages it imports, with the files that do."""
    graph: dict[str, dict[str, list[str]]] = {package: {} for package in PACKAGES}
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            for module in _imported_modules(path):
                target = module.split(".")[0]
                if target in PACKAGES and target != package:
                    graph[package].setdefault(target, []).append(str(path.relative_to(PROJECT_ROOT)))
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """One import cycle as a path that returns to its start (e.g. [a, b, a]), or None without one."""
    finished: set[str] = set()

    def visit(node: str, trail: list[str]) -> list[str] | None:
        if node in trail:
            return trail[trail.index(node):] + [node]
        if node in finished:
            return None
        for target in graph[node]:
            cycle = visit(target, [*trail, node])
            if cycle:
                return cycle
        finished.add(node)
        return None

    return next((cycle for node in graph if (cycle := visit(node, []))), None)


def test_find_cycle_finds_a_cycle_and_only_a_cycle() -> None:
    assert find_cycle({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": [], "c": []}, "b": {"c": []}, "c": {}}) is None


def test_imports_are_found_wherever_they_are_written() -> None:
    modules = set(_imported_modules(PROJECT_ROOT / "rasa_bot" / "quality" / "__main__.py"))
    assert {"argparse", "rasa_bot.settings", "handoff.settings", "rasa_bot.quality.tune"} <= modules


def test_top_level_packages_import_each_other_without_a_cycle() -> None:
    graph = package_imports()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle " + " -> ".join(cycle or []) + ": " + "; ".join(
        f"{a} -> {b} in {', '.join(graph[a][b])}" for a, b in itertools.pairwise(cycle or []))


def test_the_handoff_plugin_imports_nothing_of_the_reference_assistant() -> None:
    imported = {target: files for target, files in package_imports()["handoff"].items() if target in ASSISTANT}
    assert imported == {}


def test_make_and_python_use_the_same_model_file() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    (model,) = re.findall(r"^MODEL := (\S+)$", makefile, flags=re.MULTILINE)
    assert PROJECT_ROOT / model == MODEL_PATH
