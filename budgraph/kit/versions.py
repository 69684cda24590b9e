"""Version ordering: PEP 440 (which also accepts most semver strings), encoded as a sortable key.

The key is stored next to the version so that "latest" and ``ORDER BY version`` are computed by the
database in true version order, never by insertion order.
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

_SEMVER_PRE = re.compile(r"^(\d+\.\d+\.\d+)-(alpha|beta|rc|a|b)\.?(\d+)$", re.IGNORECASE)
_PRE_ORDER = {"a": "1", "b": "2", "rc": "3"}


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


def version_key(raw: str) -> str:
    """A string whose byte order (COLLATE "C") equals the version order of ``raw``."""
    version = parse_version(raw)
    release = (list(version.release) + [0] * 8)[:8]
    parts = [f"{version.epoch:04d}", *(f"{part:09d}" for part in release)]
    # Sections mirror packaging's comparison key: dev-only releases sort before pre-releases,
    # pre-releases before the final release, post-releases after it, dev builds before their base.
    if version.pre is None and version.post is None and version.dev is not None:
        parts.append("0")
    elif version.pre is None:
        parts.append("9")
    else:
        parts.append(f"{_PRE_ORDER[version.pre[0]]}{version.pre[1]:09d}")
    parts.append("0" if version.post is None else f"1{version.post:09d}")
    parts.append("9" if version.dev is None else f"1{version.dev:09d}")
    parts.append(version.local or "")
    return ".".join(parts)
