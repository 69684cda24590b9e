"""Rules of the code that a reviewer should not have to check by eye."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT_OF_WORK = ROOT / "budgraph" / "kit" / "unit_of_work.py"


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for folder in ("budgraph", "workers"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _calls(tree: ast.Module) -> Iterator[ast.Call]:
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def test_only_the_unit_of_work_opens_commits_or_records_a_transaction() -> None:
    offences = []
    for path, tree in _modules():
        if path == UNIT_OF_WORK:
            continue
        for call in _calls(tree):
            func = call.func
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            if _name(func) == "record_changes":
                offences.append(f"{where}: record_changes outside the unit of work")
            if isinstance(func, ast.Attribute) and func.attr == "commit" and _name(func.value) != "uow":
                offences.append(f"{where}: commit() on something that is not a unit of work")
            if _name(func) == "sessions":
                offences.append(f"{where}: a session opened from the sessionmaker directly")
    assert offences == []


def test_kit_imports_nothing_above_it() -> None:
    allowed = ("budgraph.kit", "budgraph.settings", "budgraph.registry.recorder", "budgraph.db")
    offences = []
    for path, tree in _modules():
        if path.parent.name != "kit":
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith(("budgraph", "workers"))
            ) and not node.module.startswith(allowed):
                offences.append(f"{path.name}:{node.lineno} imports {node.module}")
    assert offences == []
