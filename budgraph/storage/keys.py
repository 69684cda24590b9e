"""Where a model file lives in the object store: ``models/{model_id}/{revision}/{path}``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from budgraph.storage.errors import InvalidObjectPath

# S3 keys are at most 1024 bytes of UTF-8; 255 bytes is the file name limit of common filesystems.
MAX_NAME_BYTES = 1024
MAX_COMPONENT_BYTES = 255
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_DRIVE = re.compile(r"[A-Za-z]:")


def validate_revision(revision: str) -> str:
    """A revision is a branch, tag or commit name: ASCII letters, digits, ``.``, ``_``, ``-``."""
    if not _REVISION.fullmatch(revision):
        raise InvalidObjectPath(
            f"invalid revision {revision!r}: use 1-128 of A-Z a-z 0-9 . _ - starting with a letter or digit"
        )
    return revision


def validate_model_id(model_id: int) -> int:
    if isinstance(model_id, bool) or not isinstance(model_id, int) or model_id < 0:
        raise InvalidObjectPath(f"invalid model id {model_id!r}: must be a non-negative int")
    return model_id


def validate_object_path(path: str) -> str:
    """A normalised relative POSIX path: no empty, ``.`` or ``..`` component, no ``\\``, no control chars."""

    def invalid(why: str) -> InvalidObjectPath:
        return InvalidObjectPath(f"invalid object path {path!r}: {why}")

    if not path:
        raise invalid("empty")
    if path.startswith("/") or _DRIVE.match(path):
        raise invalid("absolute")
    if "\\" in path:
        raise invalid("contains a backslash")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in path):
        raise invalid("contains a NUL or control character")
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid("not valid UTF-8") from None
    for part in encoded.split(b"/"):
        if part in (b"", b".", b".."):
            raise invalid("not normalised (empty, '.' or '..' component)")
        if len(part) > MAX_COMPONENT_BYTES:
            raise invalid(f"a component is longer than {MAX_COMPONENT_BYTES} bytes")
    return path


def revision_prefix(model_id: int, revision: str) -> str:
    """The common prefix of all object names of one revision, ending with ``/``."""
    return f"models/{validate_model_id(model_id)}/{validate_revision(revision)}/"


@dataclass(frozen=True)
class ObjectKey:
    """One file of one revision of a model; validated on construction."""

    model_id: int
    revision: str
    path: str

    def __post_init__(self) -> None:
        validate_object_path(self.path)
        if len(self.name.encode("utf-8")) > MAX_NAME_BYTES:
            raise InvalidObjectPath(f"object name {self.name!r} is longer than {MAX_NAME_BYTES} bytes")

    @property
    def name(self) -> str:
        return revision_prefix(self.model_id, self.revision) + self.path


@dataclass(frozen=True)
class StoredObject:
    """What the store holds for a key: its size in bytes and the hex SHA-256 of its content."""

    key: ObjectKey
    size: int
    sha256: str
