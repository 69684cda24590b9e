"""Choosing a tool-call or reasoning parser for a model id, from an engine's parser rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from budgraph import db
from budgraph.compatibility.patterns import UnusablePattern, compiled, full_match
from budgraph.db.enums import MatchType

SPECIFICITY = {MatchType.EXACT.value: 2, MatchType.PREFIX.value: 1, MatchType.REGEX.value: 0}


class MatchingRule(Protocol):
    """What matching reads of a rule (a table row, or a rule book's entry)."""

    @property
    def match_type(self) -> str: ...

    @property
    def pattern(self) -> str: ...


def rule_matches(rule: MatchingRule, model_id: str) -> bool:
    """Exact and prefix rules compare case-insensitively (Hub ids are); regex must match the whole id
    (also case-insensitively), by RE2 in linear time."""
    subject = model_id.casefold()
    if rule.match_type == MatchType.EXACT.value:
        return subject == rule.pattern.casefold()
    if rule.match_type == MatchType.PREFIX.value:
        return subject.startswith(rule.pattern.casefold())
    try:
        return full_match(rule.pattern, model_id)
    except UnusablePattern:
        return False  # written before patterns were checked with RE2: it matches nothing


@dataclass(frozen=True)
class ParserChoice:
    """The parser chosen for a model, and the chat template its rule names (if a rule chose it)."""

    parser: str | None
    chat_template: str | None = None


def choose_parser(
    rules: Iterable[db.ParserRule],
    rule_type: str,
    model_id: str | None,
    shipped: Sequence[str],
    fallback: str | None,
) -> ParserChoice:
    """The parser for ``model_id``: the best matching enabled rule, else the architecture's default.

    Best = highest priority, then exact over prefix over regex, then the longest pattern. A parser the
    engine version does not ship is never chosen (when the version lists its parsers at all).
    """

    def usable(parser: str | None) -> bool:
        return parser is not None and (not shipped or parser in shipped)

    if model_id:
        candidates = [
            rule
            for rule in rules
            if rule.enabled
            and rule.rule_type == rule_type
            and usable(rule.parser)
            and rule_matches(rule, model_id)
        ]
        if candidates:
            best = max(
                candidates, key=lambda r: (r.priority, SPECIFICITY[r.match_type], len(r.pattern), -r.id)
            )
            return ParserChoice(best.parser, best.chat_template)
    return ParserChoice(fallback if usable(fallback) else None)


def validate_pattern(match_type: str, pattern: str) -> str | None:
    """An error message if ``pattern`` is unusable for ``match_type``, else ``None``."""
    if not pattern.strip():
        return "`pattern` must not be empty"
    if match_type == MatchType.REGEX.value:
        try:
            compiled(pattern)
        except UnusablePattern as error:
            return (
                "`pattern` is not a regular expression RE2 can match in linear time (no"
                f" backreferences or lookaround): {error}"
            )
    return None
