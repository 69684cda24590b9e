"""The failure types of the libraries jobs call, sorted into transient and permanent."""

from __future__ import annotations

TRANSIENT_TYPES: tuple[type[BaseException], ...] = ()
PERMANENT_TYPES: tuple[type[BaseException], ...] = ()
