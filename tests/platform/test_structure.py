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


def _domain(path: Path) -> str | None:
    parts = path.relative_to(ROOT).parts
    return parts[1] if len(parts) == 3 and parts[0] == "budgraph" else None


def test_types_import_loaders_not_another_domains_queries_repository_or_service() -> None:
    # A type resolves its nested fields through loaders; importing a domain's read path (queries,
    # repository, service) from a type is how the import cycles among the types came about.
    offences = []
    for path, tree in _modules():
        domain = _domain(path)
        if domain is None or path.name != "types.py":
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            parts = node.module.split(".")
            if (
                len(parts) != 3
                or parts[0] != "budgraph"
                or parts[2] not in ("queries", "repository", "service")
            ):
                continue
            if parts[1] != domain or parts[2] == "queries":
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}")
    assert offences == []


def test_lists_are_ordered_in_their_repository() -> None:
    # One place owns a list's SQL: filter and order together in the domain's repository, so the
    # index that serves an order (db/read_indexes.py) sits next to the ORDER BY it serves.
    offences = []
    for path, tree in _modules():
        if _domain(path) is None or path.name not in ("queries.py", "loaders.py", "types.py"):
            continue
        for call in _calls(tree):
            if _name(call.func) in ("order_by", "order_terms", "direction_of"):
                offences.append(
                    f"{path.relative_to(ROOT)}:{call.lineno}: {_name(call.func)}() outside a repository"
                )
    assert offences == []
