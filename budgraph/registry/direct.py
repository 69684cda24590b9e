"""The direct answer to `changes` (see budgraph/graphql/direct.py): the slice of the change feed and
the registry position it belongs to, in one statement (so in one snapshot: a slice never holds a
change the position it reports does not include).

A request the feed refuses (RESYNC_REQUIRED, a bad cursor or size) goes to the executor, which
words the error.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import ARRAY, BigInteger, Text, bindparam

from budgraph.graphql.context import Context
from budgraph.graphql.direct import DirectField, NotDirect, Prefetched, Prefixed
from budgraph.kit.direct_reads import CompiledRead, DirectReads
from budgraph.registry.feed import FeedRequest
from budgraph.registry.position import split_position, with_position
from budgraph.registry.repository import changes_statement
from budgraph.registry.types import RegistryChanges


@cache
def _slice(after: bool, kinds: bool) -> CompiledRead:
    statement = changes_statement(
        bindparam("since", type_=BigInteger),
        (bindparam("after_version", type_=BigInteger), bindparam("after_id", type_=BigInteger))
        if after
        else None,
        bindparam("kinds", type_=ARRAY(Text)) if kinds else None,
        bindparam("limit", type_=BigInteger),
    )
    return CompiledRead(with_position(statement))


async def changes(
    reads: DirectReads, context: Context, arguments: dict[str, Any], prefetched: Prefetched
) -> RegistryChanges:
    epoch = arguments["epoch"]
    request = FeedRequest.checked(
        int(arguments["since"]),
        str(epoch) if epoch is not None else None,
        arguments["after"],
        arguments["kinds"],
        arguments["first"],
        context.settings.max_page_size,
    )
    values: dict[str, Any] = {"since": request.since, "kinds": request.kinds, "limit": request.first + 1}
    if request.after is not None:
        values["after_version"], values["after_id"] = request.after
    read = _slice(request.after is not None, request.kinds is not None)
    position, rows = split_position(await reads.fetch(read, values))
    try:
        request.check_position(position)
    except Exception as refused:
        raise NotDirect("the client must sync from scratch") from refused
    prefetched.positions.append(position)
    return request.answer(position, [Prefixed(row) for row in rows])


CHANGES = DirectField(changes)
