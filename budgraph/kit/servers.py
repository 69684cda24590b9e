"""Which PostgreSQL and Redis a command uses: the configured ones, else the embedded ones of the data dir.

Every ``budgraph`` command goes through ``servers()``: with ``BUDGRAPH_DATABASE_URL`` and
``BUDGRAPH_REDIS_URL`` set it uses them; otherwise it joins the embedded servers of a running
``make dev`` in the same data dir, or starts them for as long as the command runs (a stopped
``make dev`` keeps its data there, so the command sees the same registry)::

    with servers(get_settings()) as used:
        await seed_registry(used.settings)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from enum import Enum

from budgraph.settings import Settings, get_settings


class Origin(Enum):
    CONFIGURED = "configured"
    JOINED = "embedded, of the running `make dev`"
    STARTED = "embedded, started for this command"


@dataclass(frozen=True)
class Servers:
    settings: Settings
    origin: Origin

    @property
    def embedded(self) -> bool:
        return self.origin is not Origin.CONFIGURED

    def describe(self) -> str:
        if not self.embedded:
            return "configured servers (BUDGRAPH_DATABASE_URL / BUDGRAPH_REDIS_URL)"
        return f"{self.origin.value}, data in {self.settings.data_dir.expanduser().resolve()}"


def _use(settings: Settings, database_url: str, redis_url: str) -> Settings:
    """Settings with these servers filled in where none is configured; the environment too, for the
    code that reads ``get_settings()`` (the arq worker's settings class)."""
    database_url = settings.database_url or database_url
    redis_url = settings.redis_url or redis_url
    os.environ["BUDGRAPH_DATABASE_URL"] = database_url
    os.environ["BUDGRAPH_REDIS_URL"] = redis_url
    get_settings.cache_clear()
    return settings.model_copy(update={"database_url": database_url, "redis_url": redis_url})


@contextmanager
def servers(settings: Settings, *, need_redis: bool = True, join: bool = True) -> Iterator[Servers]:
    """The servers for one command. ``need_redis=False``: a configured database is enough;
    ``join=False``: always start the embedded ones (``budgraph dev`` owns its servers)."""
    if settings.database_url and (settings.redis_url or not need_redis):
        yield Servers(settings, Origin.CONFIGURED)
        return
    from budgraph.kit.embedded import EmbeddedServices, running_urls

    with ExitStack() as stack:
        urls = running_urls(settings.data_dir) if join else None
        origin = Origin.JOINED
        if urls is None:
            urls = stack.enter_context(EmbeddedServices(settings.data_dir)).urls
            origin = Origin.STARTED
        yield Servers(_use(settings, urls.database_url, urls.redis_url), origin)
