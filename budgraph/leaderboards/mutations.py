"""Mutations of leaderboards: linking names to models, and refreshing sources (write scope)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph.auth.permissions import needs
from budgraph.db.enums import ApiKeyScope
from budgraph.graphql.context import Info
from budgraph.jobs.types import Job
from budgraph.kit.errors import BudgraphError
from budgraph.kit.ids import expect_global_id
from budgraph.leaderboards import linking, schedule
from budgraph.leaderboards.sources.registry import SOURCES
from budgraph.models.loaders import ModelByIdLoader
from budgraph.models.types import Model


@strawberry.type(description="An alias recorded for a model, and the leaderboard entries it links.")
class AddModelAliasPayload:
    alias: str = strawberry.field(
        description="The alias as recorded: exactly as the operator first typed it (trimmed)."
    )
    model: Model = strawberry.field(description="The model the alias names.")
    linked_entries: int = strawberry.field(
        description="How many stored leaderboard entries (current and history) the alias links to the"
        " model now; the same for every repeat of the same call."
    )


@strawberry.type(description="An alias removed from a model, and the entries linked again without it.")
class RemoveModelAliasPayload:
    alias: str = strawberry.field(description="The alias that was removed, as it was recorded.")
    model: Model = strawberry.field(description="The model it named.")
    relinked_entries: int = strawberry.field(
        description="How many stored leaderboard entries (current and history) it had linked that now"
        " point to another model, or to none."
    )


def checked_sources(sources: list[str] | None) -> list[str] | None:
    """The distinct source keys, sorted; None for every source. Unknown or no keys are refused."""
    if sources is None:
        return None
    if not sources:
        raise BudgraphError("give at least one source, or omit `sources` for all", field="sources")
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown:
        raise BudgraphError(
            f"unknown leaderboard sources: {', '.join(unknown)} (known: {', '.join(sorted(SOURCES))})",
            field="sources",
        )
    return sorted(set(sources))


@strawberry.type
class LeaderboardMutations:
    @strawberry.mutation(
        description="Record that leaderboards call a model by another name, and link every stored entry"
        " with that name to it. The alias is kept exactly as typed; names are compared with it ignoring"
        " case, punctuation and an `org/` prefix, never dropping a date, version or tag (so"
        " `gpt-4o-2024-05-13` names that snapshot only). Adding it again for the same model answers the"
        " same; an alias of another model, or another model's uri, is a CONFLICT.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def add_model_alias(
        self,
        info: Info,
        alias: Annotated[
            str,
            strawberry.argument(description="The name as a leaderboard writes it (at most 200 characters)."),
        ],
        model_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the model.")],
    ) -> AddModelAliasPayload:
        pk = expect_global_id(model_id, "Model")
        link = await linking.add_alias(info.context.session, alias, pk, info.context.actor)
        model = await info.context.loaders.get(ModelByIdLoader).load(link.alias.model_id)
        assert model is not None
        return AddModelAliasPayload(
            alias=link.alias.alias, model=Model.from_row(model), linked_entries=link.linked_entries
        )

    @strawberry.mutation(
        description="Remove an alias (matched as `addModelAlias` compares names) and link the entries it"
        " linked again, to whatever they match without it. An alias that is not recorded is NOT_FOUND.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def remove_model_alias(
        self,
        info: Info,
        alias: Annotated[str, strawberry.argument(description="The alias to remove.")],
    ) -> RemoveModelAliasPayload:
        link = await linking.remove_alias(info.context.session, alias)
        model = await info.context.loaders.get(ModelByIdLoader).load(link.alias.model_id)
        assert model is not None
        return RemoveModelAliasPayload(
            alias=link.alias.alias, model=Model.from_row(model), relinked_entries=link.relinked_entries
        )

    @strawberry.mutation(
        description="Refresh leaderboard sources in the background. Without `force` only sources due by"
        " the 7-day rule are read. Returns the queued or running refresh for the same sources and"
        " `force` if there is one.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def refresh_leaderboards(
        self,
        info: Info,
        sources: Annotated[
            list[str] | None,
            strawberry.argument(description="Keys of the sources to refresh (default: all of them)."),
        ] = None,
        force: Annotated[
            bool, strawberry.argument(description="Read the sources even if they are not due.")
        ] = False,
    ) -> Job:
        chosen = checked_sources(sources)
        job, _ = await schedule.request_refresh(
            info.context.uow,
            info.context.queue,
            schedule.manual_key(chosen, force),
            info.context.actor,
            chosen,
            force,
            once=False,
        )
        return Job.from_row(job)
