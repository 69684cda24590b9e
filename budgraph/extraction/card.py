"""README.md YAML front matter (the Hub's model card metadata). Missing or broken front matter is not an
error: the card is optional, so problems become warnings."""

from __future__ import annotations

import re
from typing import Any

import yaml

from budgraph.extraction.facts import ExtractedFacts

# The Hub's own rule: the card starts with a "---" line and the block ends at the next "---" line.
FRONT_MATTER = re.compile(r"\A\ufeff?\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
SOURCE = "README.md front matter"


def front_matter(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The front matter as a dict, or ``None`` and a warning (``None`` too when there is none)."""
    match = FRONT_MATTER.match(text)
    if match is None:
        return None, None
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return None, f"README.md front matter is not valid YAML ({first_line})"
    if data is None:
        return None, None
    if not isinstance(data, dict):
        return None, "README.md front matter is not a mapping"
    return data, None


def _strings(value: Any) -> list[str] | None:
    """A string or a list of strings as a list; YAML 1.1 reads the language code ``no`` as false."""
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in items:
        if item is False:
            found.append("no")
        elif isinstance(item, str | int | float) and not isinstance(item, bool) and str(item).strip():
            found.append(str(item).strip())
    return found or None


def _string(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def card_facts(readme: bytes, facts: ExtractedFacts) -> None:
    """Record the card's licence(s), base models, languages, datasets, tags, pipeline tag and library."""
    data, warning = front_matter(readme.decode("utf-8", errors="replace"))
    if warning:
        facts.warn(warning)
    if data is None:
        return
    lists = {
        "licenses": "license",
        "base_models": "base_model",
        "languages": "language" if "language" in data else "languages",
        "datasets": "datasets",
        "tags": "tags",
    }
    for fact, key in lists.items():
        facts.record(fact, _strings(data.get(key)), f"{SOURCE}:{key}")
    for fact in ("license_name", "license_link", "pipeline_tag", "library_name"):
        facts.record(fact, _string(data.get(fact)), f"{SOURCE}:{fact}")
