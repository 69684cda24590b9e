"""The committed ``.env.example``: generated from ``Settings`` by `make env-example`, compared by a test.

Each setting is listed with its description, its variable and its default (or an example where it has
none), so a setting added to ``Settings`` appears here by running one command.
"""

from __future__ import annotations

import textwrap
from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import AliasChoices
from pydantic.fields import FieldInfo

from budgraph.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"
WIDTH = 100

HEADER = """\
# budgraph settings, generated from budgraph/settings.py by `make env-example` (do not edit by hand).
# Every variable is optional; copy this file to .env to use it. The commented value is the default.
"""

FOOTER = """\
# Tests only (not settings of the app): use these servers instead of starting embedded ones.
# BUDGRAPH_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
# BUDGRAPH_TEST_REDIS_URL=redis://127.0.0.1:6379/0
"""


class UndocumentedSetting(ValueError):
    """A setting without a description: the generated file would not say what it is for."""


def variable(name: str, field: FieldInfo) -> str:
    """The environment variable a setting is read from (the first of its aliases)."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    if isinstance(alias, str):
        return alias
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return f"{prefix}{name}".upper()


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _entry(name: str, field: FieldInfo) -> str:
    if not field.description:
        raise UndocumentedSetting(f"Settings.{name} has no description")
    text = field.description
    if get_origin(field.annotation) is Literal:
        text += f" One of: {', '.join(_value(choice) for choice in get_args(field.annotation))}."
    lines = textwrap.wrap(text, WIDTH - 2, break_on_hyphens=False)
    if field.default is None and field.examples:
        lines.append(f"Unset by default; for example: {_value(field.examples[0])}")
        shown = _value(field.examples[0])
    else:
        shown = _value(field.default)
    comment = "\n".join(f"# {line}" for line in lines)
    return f"{comment}\n# {variable(name, field)}={shown}\n"


def render_env_example() -> str:
    entries = [_entry(name, field) for name, field in Settings.model_fields.items()]
    return "\n".join([HEADER, *entries, FOOTER])


def write_env_example(path: Path = ENV_EXAMPLE) -> bool:
    """Write the file; returns whether it changed."""
    text = render_env_example()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True
