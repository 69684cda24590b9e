"""The whole graph: root types assembled from the domains."""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry
from graphql.error import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from budgraph.auth.mutations import ApiKeyMutations
from budgraph.auth.queries import ApiKeyQueries
from budgraph.compatibility.mutations import CompatibilityMutations
from budgraph.compatibility.queries import CompatibilityQueries
from budgraph.engines.mutations import EngineMutations
from budgraph.engines.queries import EngineQueries
from budgraph.graphql.common import SCALARS
from budgraph.graphql.context import Info
from budgraph.graphql.errors import ErrorCodes
from budgraph.graphql.node import Node, load_node, node_types
from budgraph.graphql.prepared import PreparedDocumentExtension
from budgraph.hardware.mutations import HardwareMutations
from budgraph.hardware.queries import HardwareQueries
from budgraph.jobs.mutations import JobMutations
from budgraph.jobs.queries import JobQueries
from budgraph.jobs.subscriptions import JobSubscriptions
from budgraph.kit.errors import BudgraphError, ErrorCode
from budgraph.leaderboards.mutations import LeaderboardMutations
from budgraph.leaderboards.queries import LeaderboardQueries
from budgraph.models.mutations import ModelMutations
from budgraph.models.queries import ModelQueries
from budgraph.plans.queries import PlanQueries
from budgraph.providers.mutations import ProviderMutations
from budgraph.providers.queries import ProviderQueries
from budgraph.registry.queries import RegistryQueries
from budgraph.registry.subscriptions import RegistrySubscriptions
from budgraph.releases.mutations import ReleaseMutations
from budgraph.releases.queries import ReleaseQueries


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object of the graph by its global id; null if it does not exist.")
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")]
    ) -> Node | None:
        return await load_node(info, id)

    @strawberry.field(
        description="Objects by global id, in the order given; null for those that do not exist."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="Global ids (at most the page cap).")
        ],
    ) -> list[Node | None]:
        cap = info.context.settings.max_page_size
        if len(ids) > cap:
            raise BudgraphError(
                f"{len(ids)} ids given; the cap is {cap}", code=ErrorCode.PAGE_SIZE_EXCEEDED, field="ids"
            )
        return list(await asyncio.gather(*(load_node(info, id) for id in ids)))


@strawberry.type(description="Read the registry graph: engines, models, hardware, compatibility, prices.")
class Query(
    NodeQueries,
    EngineQueries,
    CompatibilityQueries,
    ModelQueries,
    RegistryQueries,
    ProviderQueries,
    HardwareQueries,
    PlanQueries,
    ReleaseQueries,
    JobQueries,
    LeaderboardQueries,
    ApiKeyQueries,
):
    pass


@strawberry.type(
    description="Change the registry graph. Every mutation needs an API key with the `write` scope (those"
    " that manage API keys: `admin`)."
)
class Mutation(
    EngineMutations,
    CompatibilityMutations,
    ProviderMutations,
    HardwareMutations,
    ReleaseMutations,
    ModelMutations,
    JobMutations,
    LeaderboardMutations,
    ApiKeyMutations,
):
    pass


@strawberry.type(description="Follow changes as they happen (graphql-transport-ws on the same endpoint).")
class Subscription(JobSubscriptions, RegistrySubscriptions):
    pass


class BudgraphSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected errors are answers, not incidents; unexpected ones are logged by ErrorCodes."""


schema = BudgraphSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=node_types(),
    # The document arrives parsed and validated by the executor (budgraph/graphql/execution.py).
    extensions=[PreparedDocumentExtension, ErrorCodes],
    config=StrawberryConfig(scalar_map=SCALARS),
)
