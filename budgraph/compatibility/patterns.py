"""Regular expressions of parser rules, matched by RE2 (linear time in the model id's length).

Python's ``re`` backtracks: a stored pattern such as ``(a|a)+b`` takes time exponential in the
length of the model id it is tried on, and rules are tried on ids that anonymous clients send.
RE2 never backtracks, so matching costs at most pattern size times id length. Patterns that RE2
cannot run (backreferences, lookaround) are refused when a rule is written.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

# RE2's own default program size limit (8 MiB), stated so that a huge pattern is refused, not slow.
MAX_PROGRAM_BYTES = 8 << 20


class UnusablePattern(ValueError):
    """RE2 cannot compile the pattern; the message says why."""


def _options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = MAX_PROGRAM_BYTES
    return options


@lru_cache(maxsize=1024)
def compiled(pattern: str) -> Any:
    """The compiled case-insensitive pattern (cached: rules are few and read on every lookup)."""
    try:
        return re2.compile(pattern, _options())
    except re2.error as error:
        reason = error.args[0] if error.args else error
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise UnusablePattern(text) from None


def full_match(pattern: str, model_id: str) -> bool:
    """Whether ``pattern`` matches the whole of ``model_id``, ignoring case."""
    return compiled(pattern).fullmatch(model_id) is not None
