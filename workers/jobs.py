"""Jobs run by the arq worker. Each opens its own unit of work, and is safe to run twice."""

from __future__ import annotations

import logging
from typing import Any

from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.seeds.service import seed

log = logging.getLogger("budgraph.workers")


async def reseed_registry(ctx: dict[str, Any]) -> dict[str, Any]:
    """Apply the seed files (idempotent: operator edits are kept, a second run changes nothing)."""
    uow = UnitOfWork(ctx["sessions"], actor="worker:seed")
    try:
        report = await seed(uow.session)
        version = await uow.commit()
    except BaseException:
        await uow.rollback()
        raise
    finally:
        await uow.close()
    log.info("reseed done: %s", "; ".join(report.lines()) or "no changes")
    return {"registry_version": version, "created": dict(report.created), "updated": dict(report.updated)}
