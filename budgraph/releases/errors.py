"""Expected failures of recording and applying upstream releases."""

from __future__ import annotations

import re

from budgraph.kit.errors import BudgraphError

CAPABILITY = re.compile(r"^[0-9]+\.[0-9]+$")


class ReleaseFactsError(BudgraphError):
    """An importer's facts break a rule of the data model (an unknown endpoint, a bad capability)."""


def checked_capability(value: str | None, field: str) -> str | None:
    """A compute capability as `major.minor` ("8.9", "10.0"), else a BAD_USER_INPUT on ``field``."""
    if value is None:
        return None
    text = value.strip()
    if not CAPABILITY.fullmatch(text):
        raise BudgraphError(
            f"`{field}` must be a compute capability such as `8.9` (major.minor), got {value!r}", field=field
        )
    return text


def capability_tuple(value: str) -> tuple[int, int]:
    major, minor = value.split(".")
    return int(major), int(minor)


def reaches(have: str | None, needed: str | None) -> bool:
    """Whether capability ``have`` reaches ``needed`` (no minimum: always; no capability given: the
    question is not asked, so yes)."""
    if needed is None or have is None:
        return True
    return capability_tuple(have) >= capability_tuple(needed)


class ReleaseImportError(Exception):
    """The artifact cannot be imported (unknown engine, missing path, wrong engine, missing file, version)."""
