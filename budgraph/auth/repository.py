from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.db import ApiKey


async def key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    result: ApiKey | None = await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    return result


async def key_by_name(session: AsyncSession, name: str) -> ApiKey | None:
    result: ApiKey | None = await session.scalar(select(ApiKey).where(ApiKey.name == name))
    return result
