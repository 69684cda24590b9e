"""A rule book chooses exactly what ``choose_parser`` chooses from the same rules.

Given random enabled rules over a few engines (exact, prefix and regex patterns that share prefixes
and differ in case, priorities that tie, parsers an engine version may not ship), when the rule book
and ``choose_parser`` choose a parser for random model ids, then they choose the same parser and
chat template, every time, and the second time (from the book's memory) as the first.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgraph.compatibility.parsers import ParserChoice, choose_parser
from budgraph.compatibility.rulebook import Rule, RuleBook, RuleBooks
from budgraph.registry.repository import RegistryPosition
from tests.graph.test_parser_rules import RULES

POSITION = RegistryPosition(version=7, epoch="b7d3c0a2-0000-4000-8000-000000000000")
WORDS = ["Qwen", "qwen", "Qwen2.5-", "Llama-3.1-", "llama", "-Instruct", "7B", "Mistral", "/", "x"]
PARSERS = ["hermes", "llama3_json", "mistral", "pythonic", "deepseek_r1"]


def _id_text() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(WORDS), min_size=0, max_size=4).map("".join)


@st.composite
def _rules(draw: Any) -> list[Rule]:
    count = draw(st.integers(min_value=0, max_value=40))
    rules = []
    seen = set()
    for rule_id in range(1, count + 1):
        match_type = draw(st.sampled_from(["exact", "prefix", "regex"]))
        text = draw(_id_text().filter(bool))
        pattern = {
            "exact": text,
            "prefix": text,
            "regex": draw(st.sampled_from([f"{text}.*", f"(?:{text})+", ".*"])),
        }[match_type]
        rule_type = draw(st.sampled_from(["tool", "reasoning"]))
        engine_id = draw(st.sampled_from([1, 2, 3]))
        if (engine_id, rule_type, match_type, pattern) in seen:
            continue  # the table's unique key
        seen.add((engine_id, rule_type, match_type, pattern))
        rules.append(
            Rule(
                id=rule_id,
                engine_id=engine_id,
                rule_type=rule_type,
                match_type=match_type,
                pattern=pattern,
                parser=draw(st.sampled_from(PARSERS)),
                chat_template=draw(st.sampled_from([None, "examples/a.jinja", "examples/b.jinja"])),
                priority=draw(st.sampled_from([0, 0, 10, 100])),
            )
        )
    return rules


def _reference(rules: list[Rule], engine_id: int, *args: Any) -> ParserChoice:
    rows = [SimpleNamespace(**vars_of(rule), enabled=True) for rule in rules if rule.engine_id == engine_id]
    return choose_parser(rows, *args)  # type: ignore[arg-type]


def vars_of(rule: Rule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in Rule.__slots__}


def _model_ids(rules: list[Rule]) -> st.SearchStrategy[str | None]:
    """Ids that some rules match (their patterns, in other cases, with more after) and random ones."""
    texts = [rule.pattern for rule in rules if rule.match_type != "regex"] or ["Qwen"]
    near = st.tuples(st.sampled_from(texts), st.sampled_from(["", "7B", "-Instruct", "Qwen2.5-"]))
    cased = st.sampled_from([str, str.upper, str.lower, str.swapcase])
    return st.one_of(st.none(), _id_text(), st.builds(lambda t, case: case(t[0] + t[1]), near, cased))


@settings(max_examples=300, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(_rules(), st.data())
def test_a_rule_book_chooses_what_choose_parser_chooses(rules: list[Rule], data: st.DataObject) -> None:
    asks = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from([1, 2, 3, 4]),
                st.sampled_from(["tool", "reasoning"]),
                _model_ids(rules),
                st.lists(st.sampled_from(PARSERS), max_size=3),
                st.one_of(st.none(), st.sampled_from(PARSERS)),
            ),
            min_size=1,
            max_size=20,
        )
    )
    book = RuleBook(POSITION, rules)
    for engine_id, rule_type, model_id, shipped, fallback in asks + asks:  # again: from memory
        expected = _reference(rules, engine_id, rule_type, model_id, shipped, fallback)
        assert book.choose(engine_id, rule_type, model_id, shipped, fallback) == expected


def test_the_seeded_rules_choose_the_same_from_a_book() -> None:
    rules = [
        Rule(
            id=n,
            engine_id=1,
            rule_type=r.rule_type,
            match_type=r.match_type,
            pattern=r.pattern,
            parser=r.parser,
            chat_template=r.chat_template,
            priority=r.priority,
        )
        for n, r in enumerate(RULES, start=1)
    ]
    book = RuleBook(POSITION, rules)
    for rule in RULES:
        for model_id in (rule.pattern, rule.pattern.upper(), rule.pattern + "7B-Instruct", "org/unrelated"):
            expected = _reference(rules, 1, rule.rule_type, model_id, [], "default")
            assert book.choose(1, rule.rule_type, model_id, [], "default") == expected


def test_a_process_keeps_the_books_of_a_few_positions() -> None:
    books = RuleBooks()
    kept = [books.add(RuleBook(RegistryPosition(version=n, epoch=POSITION.epoch), [])) for n in range(10)]
    assert books.get(RegistryPosition(version=9, epoch=POSITION.epoch)) is kept[9]
    assert books.get(RegistryPosition(version=6, epoch=POSITION.epoch)) is kept[6]
    assert books.get(RegistryPosition(version=5, epoch=POSITION.epoch)) is None
    assert books.get(RegistryPosition(version=9, epoch="another registry")) is None


def test_a_prefix_rule_of_higher_priority_beats_an_exact_one() -> None:
    rules = [
        Rule(1, 1, "tool", "exact", "Qwen/Qwen2.5-7B", "hermes", None, 0),
        Rule(2, 1, "tool", "prefix", "qwen/", "mistral", "examples/m.jinja", 10),
        Rule(3, 1, "tool", "regex", "Qwen/.*", "pythonic", None, 10),
    ]
    book = RuleBook(POSITION, rules)
    assert book.choose(1, "tool", "QWEN/Qwen2.5-7b", [], None) == ParserChoice("mistral", "examples/m.jinja")
    assert book.choose(1, "tool", "QWEN/Qwen2.5-7b", ["hermes", "pythonic"], None) == ParserChoice("pythonic")
    assert book.choose(1, "tool", "QWEN/Qwen2.5-7b", ["hermes"], None) == ParserChoice("hermes")
    assert _reference(rules, 1, "tool", "QWEN/Qwen2.5-7b", [], None) == ParserChoice(
        "mistral", "examples/m.jinja"
    )
