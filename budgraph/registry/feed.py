"""The change feed's request and answer, shared by the `changes` resolver and its direct answer."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import strawberry

from budgraph.graphql.common import BigInt
from budgraph.kit.errors import BudgraphError, ErrorCode
from budgraph.registry.errors import ResyncRequired
from budgraph.registry.repository import RegistryPosition
from budgraph.registry.snapshots import logged_kinds
from budgraph.registry.types import RegistryChange, RegistryChanges

_BIGINT_MAX = 2**63 - 1


def encode_cursor(version: int, change_id: int) -> str:
    return base64.urlsafe_b64encode(f"change:{version}:{change_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        kind, version, change_id = base64.urlsafe_b64decode(cursor.encode("ascii")).decode().split(":")
        position = int(version), int(change_id)
        if kind == "change" and all(0 <= number <= _BIGINT_MAX for number in position):
            return position
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise BudgraphError(
        f"{cursor[:64]!r} is not a valid cursor", code=ErrorCode.INVALID_CURSOR, field="after"
    )


def checked_kinds(kinds: list[str] | None) -> list[str] | None:
    if kinds is None:
        return None
    known = logged_kinds()
    unknown = sorted(set(kinds) - set(known))
    if unknown:
        shown = ", ".join(repr(kind[:64]) for kind in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise BudgraphError(
            f"`kinds` names no entity kind of the feed: {shown} (known: {', '.join(known)})", field="kinds"
        )
    return kinds


def check_position(since: int, epoch: str | None, current: RegistryPosition) -> None:
    """RESYNC_REQUIRED when a client synced another registry (``epoch``) or a version beyond it."""
    if epoch is not None and epoch != current.epoch:
        raise ResyncRequired(
            f"`epoch` {epoch[:64]!r} is not this registry's epoch ({current.epoch}): it was reset"
            " since; sync from scratch",
            field="epoch",
            version=current.version,
            epoch=current.epoch,
        )
    if since > current.version:
        raise ResyncRequired(
            f"`since` is {since}, beyond the registry's version {current.version}: the registry"
            " was reset or restored; sync from scratch",
            field="since",
            version=current.version,
            epoch=current.epoch,
        )


@dataclass(frozen=True)
class FeedRequest:
    """A checked `changes` request."""

    since: int
    after: tuple[int, int] | None
    cursor: str | None  # `after` as given
    kinds: list[str] | None
    first: int
    epoch: str | None

    @classmethod
    def checked(
        cls, since: int, epoch: str | None, after: str | None, kinds: list[str] | None, first: int, cap: int
    ) -> FeedRequest:
        if since < 0:
            raise BudgraphError("`since` must not be negative", field="since")
        if first < 1:
            raise BudgraphError("`first` must be at least 1", field="first")
        if first > cap:
            raise BudgraphError(
                f"`first` is {first}; the page cap is {cap}", code=ErrorCode.PAGE_SIZE_EXCEEDED, field="first"
            )
        position = decode_cursor(after) if after is not None else None
        return cls(since, position, after, checked_kinds(kinds), first, epoch)

    def check_position(self, current: RegistryPosition) -> None:
        """RESYNC_REQUIRED when the client synced another registry (epoch) or a version beyond it."""
        check_position(self.since, self.epoch, current)

    def answer(self, current: RegistryPosition, rows: Sequence[Any]) -> RegistryChanges:
        """The slice of ``rows`` (read with one more than ``first``, to know whether more follow)."""
        listed = rows[: self.first]
        return RegistryChanges(
            changes=[RegistryChange.from_row(row) for row in listed],
            registry_version=BigInt(current.version),
            registry_epoch=strawberry.ID(current.epoch),
            end_cursor=encode_cursor(listed[-1].registry_version, listed[-1].id) if listed else self.cursor,
            has_more=len(rows) > self.first,
        )


@dataclass(frozen=True)
class FollowRequest:
    """A checked `registryChanged` request: the versions after ``since`` (None: from now on)."""

    since: int | None
    epoch: str | None
    kinds: list[str] | None

    @classmethod
    def checked(cls, since: int | None, epoch: str | None, kinds: list[str] | None) -> FollowRequest:
        if since is not None and since < 0:
            raise BudgraphError("`since` must not be negative", field="since")
        return cls(since, epoch, checked_kinds(kinds))

    def start(self, current: RegistryPosition) -> RegistryPosition:
        """The position already synced: ``since`` (checked as the feed checks it), or ``current``."""
        if self.since is None:
            check_position(current.version, self.epoch, current)
            return current
        check_position(self.since, self.epoch, current)
        return RegistryPosition(version=self.since, epoch=current.epoch)
