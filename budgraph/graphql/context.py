"""What every resolver gets through ``info.context``.

A ``Context`` lives as long as the HTTP request or the WebSocket connection: settings, the queue,
the object store and the caller. Everything that belongs to one *operation* (its unit of work, its
dataloaders) is an ``Operation`` held in a context variable, because one WebSocket connection runs
several operations at once, each in its own task. ``info.context.uow`` / ``.session`` /
``.loaders`` read the operation of the running task, so resolvers need not know the transport.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode
from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.types import Info as StrawberryInfo

from budgraph.auth.keys import Principal
from budgraph.compatibility.rulebook import RuleBooks
from budgraph.db.enums import ApiKeyScope
from budgraph.jobs.queue import JobQueue
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import Forbidden, Unauthenticated
from budgraph.kit.loaders import LoaderCache
from budgraph.kit.unit_of_work import UnitOfWork, UnitOfWorkClosed
from budgraph.registry.watch import RegistryWatch
from budgraph.settings import Settings
from budgraph.storage import ObjectStore

if TYPE_CHECKING:
    from budgraph.models.hub_lookup import HubLookups


@dataclass
class Operation:
    """One GraphQL operation's unit of work and dataloaders."""

    uow: UnitOfWork
    streaming: bool = False
    document: DocumentNode | None = None  # parsed and validated before execution
    extensions: dict[str, Any] | None = None  # what every event of a subscription reports (its cost)
    loaders: LoaderCache = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = LoaderCache(self.uow.session)

    def forget_loaded(self) -> None:
        """Drop cached rows (a subscription's next event must see the registry as it is then)."""
        self.loaders = LoaderCache(self.uow.session)


_current: ContextVar[Operation | None] = ContextVar("budgraph_operation", default=None)


@contextmanager
def running(operation: Operation) -> Iterator[Operation]:
    """Make ``operation`` the current one for this task (and the tasks it starts)."""
    token = _current.set(operation)
    try:
        yield operation
    finally:
        _current.reset(token)


def current_operation() -> Operation:
    operation = _current.get()
    if operation is None:
        raise UnitOfWorkClosed("no GraphQL operation is running in this task")
    return operation


@dataclass
class Context:
    settings: Settings
    queue: JobQueue
    sessions: async_sessionmaker[RequestSession]
    store: ObjectStore
    principal: Principal | None = None
    client_address: str | None = None
    authorization: str | None = None
    connection_params: dict[str, Any] | None = None
    # The parser rules by registry position, shared by the process's requests.
    rule_books: RuleBooks = field(default_factory=RuleBooks)
    # Shapes of Hub models not registered yet (None: such ids are not looked up).
    hub_lookups: HubLookups | None = None
    # Tells the process's `registryChanged` subscriptions that the registry moved.
    registry_watch: RegistryWatch | None = None

    @property
    def operation(self) -> Operation:
        return current_operation()

    @property
    def uow(self) -> UnitOfWork:
        return current_operation().uow

    @property
    def session(self) -> RequestSession:
        return current_operation().uow.session

    @property
    def loaders(self) -> LoaderCache:
        return current_operation().loaders

    @property
    def actor(self) -> str:
        return self.principal.key_name if self.principal else "anonymous"

    def require(self, scope: ApiKeyScope) -> Principal:
        """The caller, who must hold ``scope``; raises a typed error otherwise."""
        if self.principal is None:
            raise Unauthenticated(f"this operation needs an API key with the `{scope.value}` scope")
        if not self.principal.allows(scope):
            raise Forbidden(
                f"the API key {self.principal.key_name!r} has scope `{self.principal.scope.value}`;"
                f" this operation needs `{scope.value}`"
            )
        return self.principal


Info = StrawberryInfo[Context, None]
