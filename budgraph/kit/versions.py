"""Version ordering: PEP 440 (which also accepts most semver strings), encoded as a sortable key.

The key is stored next to the version so that "latest" and ``ORDER BY version`` are computed by the
database in true version order, never by insertion order. Two versions are equal exactly when their
keys are: ``0.10``, ``0.10.0`` and ``v0.10.0`` share one key, so a unique index on the key makes
them one version.
"""

from __future__ import annotations

import re
from typing import Any

from packaging.version import InvalidVersion, Version
from sqlalchemy import ColumnElement, and_, func
from sqlalchemy.orm import InstrumentedAttribute

_SEMVER_PRE = re.compile(r"^(v?\d+\.\d+\.\d+)-(alpha|beta|rc|a|b)\.?(\d+)$", re.IGNORECASE)
_PRE_ORDER = {"a": "1", "b": "2", "rc": "3"}
RELEASE_PARTS = 8
NUMBER_DIGITS = 9
EPOCH_DIGITS = 4
# 1-based positions of the sections in the key (epoch, 8 release parts, pre, post, dev, local).
_PRE_SECTION = 2 + RELEASE_PARTS
_DEV_SECTION = _PRE_SECTION + 2


class InvalidVersionString(ValueError):
    pass


def parse_version(raw: str) -> Version:
    """Parse a PEP 440 version, also accepting semver pre-releases such as ``1.2.0-rc.1``."""
    text = raw.strip()
    semver = _SEMVER_PRE.match(text)
    if semver:
        text = f"{semver.group(1)}{semver.group(2)}{semver.group(3)}"
    try:
        return Version(text)
    except InvalidVersion as error:
        raise InvalidVersionString(f"{raw!r} is not a PEP 440 or semver version") from error


def is_prerelease(raw: str) -> bool:
    """Whether pip treats the version as a pre-release (an alpha, beta, rc or dev release)."""
    return parse_version(raw).is_prerelease


def _number(value: int, digits: int, raw: str) -> str:
    if value >= 10**digits:
        raise InvalidVersionString(f"{raw!r} has a number with more than {digits} digits")
    return f"{value:0{digits}d}"


def _local(segment: str) -> str:
    # PEP 440: numeric local segments compare as numbers and sort after alphanumeric ones.
    return f"1{int(segment):0{NUMBER_DIGITS}d}" if segment.isdigit() else f"0{segment}"


def version_key(raw: str) -> str:
    """A string whose byte order (COLLATE "C") equals the version order of ``raw``.

    Versions that PEP 440 calls equal (``1.0`` and ``1.0.0``) get the same key.
    """
    version = parse_version(raw)
    if len(version.release) > RELEASE_PARTS and any(version.release[RELEASE_PARTS:]):
        raise InvalidVersionString(f"{raw!r} has more than {RELEASE_PARTS} release numbers")
    release = (list(version.release) + [0] * RELEASE_PARTS)[:RELEASE_PARTS]
    parts = [_number(version.epoch, EPOCH_DIGITS, raw), *(_number(n, NUMBER_DIGITS, raw) for n in release)]
    # Sections mirror packaging's comparison key: dev-only releases sort before pre-releases,
    # pre-releases before the final release, post-releases after it, dev builds before their base.
    if version.pre is None and version.post is None and version.dev is not None:
        parts.append("0")
    elif version.pre is None:
        parts.append("9")
    else:
        parts.append(_PRE_ORDER[version.pre[0]] + _number(version.pre[1], NUMBER_DIGITS, raw))
    parts.append("0" if version.post is None else "1" + _number(version.post, NUMBER_DIGITS, raw))
    parts.append("9" if version.dev is None else "1" + _number(version.dev, NUMBER_DIGITS, raw))
    local = "" if version.local is None else ".".join(_local(s) for s in version.local.split("."))
    parts.append(local)
    return ".".join(parts)


def is_final_key(key: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """SQL: whether the version with this key is a final release (no pre-release, no dev part).

    Post-releases count as final, as for pip.
    """
    return and_(
        func.split_part(key, ".", _PRE_SECTION) == "9", func.split_part(key, ".", _DEV_SECTION) == "9"
    )
