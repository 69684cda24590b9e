"""What every resolver gets through ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.types import Info as StrawberryInfo

from budgraph.auth.keys import Principal
from budgraph.db.enums import ApiKeyScope
from budgraph.jobs.queue import JobQueue
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import Forbidden, Unauthenticated
from budgraph.kit.loaders import LoaderCache
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.settings import Settings
from budgraph.storage import ObjectStore


@dataclass
class Context:
    uow: UnitOfWork
    settings: Settings
    queue: JobQueue
    sessions: async_sessionmaker[RequestSession]
    store: ObjectStore
    principal: Principal | None = None
    loaders: LoaderCache = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = LoaderCache(self.uow.session)

    @property
    def session(self) -> RequestSession:
        session = self.uow.session
        assert isinstance(session, RequestSession)
        return session

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
        self.uow.actor = self.principal.key_name
        return self.principal


Info = StrawberryInfo[Context, None]
