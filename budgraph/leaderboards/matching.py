"""Matching the names leaderboards use to registry models (uris such as ``Qwen/Qwen2.5-72B-Instruct``).

A name is compared in three normalised forms, each looser than the one before (``forms``):

0. *name*: lower-case, organisation prefix dropped (``meta-llama/``), every run of characters other
   than letters, digits and dots made one ``-``; a dot stays only between two digits, so version
   ``3.1`` stays distinct from ``3-1`` and ``3`` (``Qwen2.5 72B`` -> ``qwen2.5-72b``).
1. *undecorated*: form 0 of the name without parenthesised notes (``(bf16)``, ``(FC)``), and without
   trailing release dates (``-2024-05-13``, ``-20240620``, ``-0613``, ``-2407``) and trailing format,
   precision or quantisation tags (``-hf``, ``-gptq``, ``-awq``, ``-int4``, ``-fp8``, ``-gguf``,
   ``-bf16``, ``-q4_k_m``...), removed repeatedly from the end.
2. *family* (``normalise``): form 1 also without trailing tuning suffixes (``-instruct``, ``-chat``,
   ``-it``) and with ``meta-llama`` read as ``llama`` (Meta renamed ``Meta-Llama-3.1-*`` to ``Llama-3.1-*``).

``ModelMatcher.match`` applies these rules in order; the first rule that finds anything decides:

1. *exact*: the name equals a model's uri, ignoring case.
2. *alias*: the name's form 0 equals the form 0 of an operator's alias (``name_key``). An alias is
   what the operator typed: only its case, punctuation and organisation prefix are normalised, never
   a date, version or tag, so ``gpt-4o-2024-05-13`` names that snapshot and no other.
3. *normalised*: the name's form 0 equals a model uri's form 0; else form 1 equals form 1; else
   form 2 equals form 2. A more specific form always wins: ``Qwen2.5-72B`` finds ``Qwen/Qwen2.5-72B``
   in form 0 even though ``Qwen/Qwen2.5-72B-Instruct`` shares its form 2.

When a rule finds several models and the name carries an organisation, the models of that
organisation are kept. If more than one model remains, the name is left unmatched, with the tied
models in ``MatchResult.ambiguous``: the matcher never guesses. Nothing depends on input order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

Method = Literal["exact", "alias", "normalised"]

_SEPARATORS = re.compile(r"[^a-z0-9.]+")
_NON_VERSION_DOT = re.compile(r"(?<![0-9])\.|\.(?![0-9])")
_NOTES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_DECORATIONS = (
    re.compile(r"-(?:19|20)\d{2}-\d{2}-\d{2}$"),  # -2024-05-13
    re.compile(r"-(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$"),  # -20240620
    re.compile(r"-(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$"),  # -0613 (month, day)
    re.compile(r"-2[3-9](?:0[1-9]|1[0-2])$"),  # -2407 (year, month)
    re.compile(r"-q[2-8](?:-[01]|-k(?:-[sml])?)?$"),  # GGUF quantisations: -q4-k-m, -q8-0
    re.compile(
        r"-(?:hf|gptq|awq|gguf|ggml|exl2|mlx|onnx|bnb|nf4|int4|int8|fp8|fp16|fp32|bf16|f16|f32"
        r"|4bit|8bit|w4a16|w8a8|w8a16|dynamic)$"
    ),
)
_VARIANTS = re.compile(r"-(?:instruct|chat|it)$")
_META_LLAMA = re.compile(r"^meta-(?=llama)")


def _name(text: str) -> str:
    joined = _SEPARATORS.sub("-", text.strip().lower().rpartition("/")[2])
    return re.sub(r"-{2,}", "-", _NON_VERSION_DOT.sub("-", joined)).strip("-")


def _strip_tail(form: str, patterns: Iterable[re.Pattern[str]]) -> str:
    rules = tuple(patterns)
    while True:
        for rule in rules:
            stripped = rule.sub("", form)
            if stripped != form and stripped:
                form = stripped
                break
        else:
            return form


def forms(name: str) -> tuple[str, str, str]:
    """The three normalised forms of ``name`` (module docstring), most specific first."""
    exact = _name(name)
    undecorated = _strip_tail(_name(_NOTES.sub(" ", name.strip().lower().rpartition("/")[2])), _DECORATIONS)
    family = _META_LLAMA.sub("", _strip_tail(undecorated, (*_DECORATIONS, _VARIANTS)))
    return exact, undecorated, family


def name_key(name: str) -> str:
    """Form 0, the form aliases are compared in: ``OpenAI/GPT-4o 2024-05-13`` -> ``gpt-4o-2024-05-13``."""
    return _name(name)


def normalise(name: str) -> str:
    """The loosest form: ``meta-llama/Meta-Llama-3.1-8B-Instruct`` -> ``llama-3.1-8b``."""
    return forms(name)[2]


def candidates(name: str) -> list[str]:
    """The distinct non-empty forms of ``name``, most specific first."""
    found: list[str] = []
    for form in forms(name):
        if form and form not in found:
            found.append(form)
    return found


def _organisation(name: str) -> str | None:
    org, slash, _ = name.strip().lower().rpartition("/")
    return org if slash and org else None


@dataclass(frozen=True)
class MatchResult:
    model_id: int | None
    method: Method | None
    ambiguous: tuple[int, ...] = ()  # the tied models when the name was left unmatched


class ModelMatcher:
    """Matches raw leaderboard names to ``models`` ((model_id, uri) pairs) and an alias table
    (``name_key`` of the alias -> model_id); see the module docstring for the rules."""

    def __init__(self, models: Iterable[tuple[int, str]], aliases: Mapping[str, int]) -> None:
        self._organisations: dict[int, str | None] = {}
        self._uris: dict[str, set[int]] = {}
        self._model_forms: tuple[dict[str, set[int]], ...] = ({}, {}, {})
        self._aliases: dict[str, set[int]] = {}
        for model_id, uri in models:
            self._organisations[model_id] = _organisation(uri)
            self._uris.setdefault(uri.strip().lower(), set()).add(model_id)
            for index, form in zip(self._model_forms, forms(uri), strict=True):
                if form:
                    index.setdefault(form, set()).add(model_id)
        for alias, model_id in aliases.items():
            if key := name_key(alias):
                self._aliases.setdefault(key, set()).add(model_id)

    def match(self, raw_name: str) -> MatchResult:
        organisation = _organisation(raw_name)
        exact = self._uris.get(raw_name.strip().lower())
        if exact:
            return self._decide(exact, "exact", organisation)
        raw_forms = forms(raw_name)
        aliased = self._aliases.get(raw_forms[0]) if raw_forms[0] else None
        if aliased:
            return self._decide(aliased, "alias", organisation)
        for index, form in zip(self._model_forms, raw_forms, strict=True):
            found = index.get(form) if form else None
            if found:
                return self._decide(found, "normalised", organisation)
        return MatchResult(None, None)

    def _decide(self, found: set[int], method: Method, organisation: str | None) -> MatchResult:
        if len(found) > 1 and organisation is not None:
            same = {model_id for model_id in found if self._organisations.get(model_id) == organisation}
            found = same or found
        if len(found) == 1:
            return MatchResult(next(iter(found)), method)
        return MatchResult(None, None, tuple(sorted(found)))
