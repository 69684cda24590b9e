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


@strawberry.type(description="An alias recorded for a model, and the leaderboard entries it re-linked.")
class AddModelAliasPayload:
    alias: str = strawberry.field(description="The alias as stored: normalised (e.g. `llama-3.1-8b`).")
    model: Model = strawberry.field(description="The model the alias names.")
    relinked_entries: int = strawberry.field(
        description="How many stored leaderboard entries (current and history) now point to a different"
        " model."
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
        " with that name to it. An alias of another model is a CONFLICT.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def add_model_alias(
        self,
        info: Info,
        alias: Annotated[
            str, strawberry.argument(description="The name as a leaderboard writes it; stored normalised.")
        ],
        model_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the model.")],
    ) -> AddModelAliasPayload:
        pk = expect_global_id(model_id, "Model")
        row, relinked = await linking.add_alias(info.context.session, alias, pk, info.context.actor)
        model = await info.context.loaders.get(ModelByIdLoader).load(row.model_id)
        assert model is not None
        return AddModelAliasPayload(alias=row.alias, model=Model.from_row(model), relinked_entries=relinked)

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
