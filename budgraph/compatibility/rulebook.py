"""The parser rules as of one registry position, indexed for choosing, and kept per process.

Choosing a parser scanned every rule of an engine for every row of a runtime slice (61 rules times
40 rows, in Python, per request). The rules change only when the registry does, so a process keeps
them in a ``RuleBook`` for the registry position they were read at: exact rules in a dictionary by
their case-folded pattern, prefix and regex rules in best-first lists, and the rules that match a
model id remembered per (engine, rule type, model id). The choice is ``choose_parser``'s: the tests
compare the two on random rules and ids (``tests/graph/test_rule_book.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.compatibility.parsers import SPECIFICITY, ParserChoice, rule_matches
from budgraph.compatibility.repository import RULE_COLUMNS, enabled_rules_statement
from budgraph.db.enums import MatchType
from budgraph.registry.position import split_position, with_position
from budgraph.registry.repository import RegistryPosition, current_position

# How many (engine, rule type, model id) matches a book remembers before it starts again.
_REMEMBERED_MATCHES = 20_000
_REMEMBERED_BUILT = 20_000  # slice rows' objects (a few KB each at most)
# How many positions' books a process keeps (requests still reading an older snapshot share them).
_BOOKS_KEPT = 4


@dataclass(frozen=True, slots=True)
class Rule:
    """An enabled parser rule, as a rule book holds it."""

    id: int
    engine_id: int
    rule_type: str
    match_type: str
    pattern: str
    parser: str
    chat_template: str | None
    priority: int

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> Rule:
        """From a row of ``repository.enabled_rules_statement`` (by column name)."""
        return cls(**{name: row[name] for name in RULE_COLUMNS})

    @property
    def rank(self) -> tuple[int, int, int, int]:
        """Best first when sorted descending: priority, exact > prefix > regex, longer, older."""
        return (self.priority, SPECIFICITY[self.match_type], len(self.pattern), -self.id)


class _EngineRules:
    def __init__(self, rules: Iterable[Rule]) -> None:
        self.exact: dict[tuple[str, str], list[Rule]] = {}
        self.scanned: dict[str, list[Rule]] = {}
        for rule in sorted(rules, key=lambda r: r.rank, reverse=True):
            if rule.match_type == MatchType.EXACT.value:
                self.exact.setdefault((rule.rule_type, rule.pattern.casefold()), []).append(rule)
            else:
                self.scanned.setdefault(rule.rule_type, []).append(rule)

    def matching(self, rule_type: str, model_id: str) -> tuple[Rule, ...]:
        exact = self.exact.get((rule_type, model_id.casefold()), [])
        others = [rule for rule in self.scanned.get(rule_type, ()) if rule_matches(rule, model_id)]
        if not exact or not others:
            return tuple(exact or others)
        return tuple(sorted([*exact, *others], key=lambda r: r.rank, reverse=True))


class RuleBook:
    """The enabled rules at one registry position, and the parser each would choose."""

    def __init__(self, position: RegistryPosition, rules: Iterable[Rule]) -> None:
        self.position = position
        by_engine: dict[int, list[Rule]] = {}
        for rule in rules:
            by_engine.setdefault(rule.engine_id, []).append(rule)
        self._engines = {engine_id: _EngineRules(found) for engine_id, found in by_engine.items()}
        self._matches: dict[tuple[int, str, str], tuple[Rule, ...]] = {}
        # What the direct runtime slice built from rows read at this position (compatibility/direct.py):
        # the rows, the rules and so the answer's objects are the same until the position moves.
        self._built: dict[Hashable, Any] = {}

    def built(self, key: Hashable) -> Any | None:
        return self._built.get(key)

    def keep_built(self, key: Hashable, value: Any) -> None:
        if len(self._built) >= _REMEMBERED_BUILT:
            self._built.clear()  # bounded, like the matches
        self._built[key] = value

    def choose(
        self,
        engine_id: int,
        rule_type: str,
        model_id: str | None,
        shipped: Sequence[str],
        fallback: str | None,
    ) -> ParserChoice:
        """What ``choose_parser`` chooses from this engine's rules."""

        def usable(parser: str | None) -> bool:
            return parser is not None and (not shipped or parser in shipped)

        if model_id:
            for rule in self._matching(engine_id, rule_type, model_id):
                if usable(rule.parser):
                    return ParserChoice(rule.parser, rule.chat_template)
        return ParserChoice(fallback if usable(fallback) else None)

    def _matching(self, engine_id: int, rule_type: str, model_id: str) -> tuple[Rule, ...]:
        key = (engine_id, rule_type, model_id)
        found = self._matches.get(key)
        if found is None:
            engine = self._engines.get(engine_id)
            found = engine.matching(rule_type, model_id) if engine is not None else ()
            if len(self._matches) >= _REMEMBERED_MATCHES:
                self._matches.clear()  # bounded: a client sending random ids cannot grow it
            self._matches[key] = found
        return found


class RuleBooks:
    """A process's rule books, by the registry position they were read at (a few kept)."""

    def __init__(self) -> None:
        self._books: OrderedDict[RegistryPosition, RuleBook] = OrderedDict()

    def get(self, position: RegistryPosition) -> RuleBook | None:
        return self._books.get(position)

    def add(self, book: RuleBook) -> RuleBook:
        self._books[book.position] = book
        self._books.move_to_end(book.position)
        while len(self._books) > _BOOKS_KEPT:
            self._books.popitem(last=False)
        return book


def book_of(books: RuleBooks, rows: Sequence[Mapping[str, Any]]) -> RuleBook:
    """The book of a ``with_position(enabled_rules_statement())`` read (kept in ``books``)."""
    position, found = split_position(rows)
    return books.get(position) or books.add(RuleBook(position, [Rule.from_mapping(row) for row in found]))


async def current_book(session: AsyncSession, books: RuleBooks) -> RuleBook:
    """The rule book at the registry's position as ``session`` sees it: one statement when the
    process has it, two when it reads the rules (with the position they belong to)."""
    book = books.get(await current_position(session))
    if book is not None:
        return book
    rows = (await session.execute(with_position(enabled_rules_statement()))).mappings().all()
    return book_of(books, rows)
