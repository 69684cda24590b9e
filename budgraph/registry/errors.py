"""Expected failures of the change feed."""

from __future__ import annotations

from budgraph.kit.errors import BudgraphError, ErrorCode


class ResyncRequired(BudgraphError):
    """The client's sync position does not belong to this registry: it must sync from scratch.

    The extensions carry where to start again: ``registryVersion`` and ``registryEpoch``.
    """

    code = ErrorCode.RESYNC_REQUIRED

    def __init__(self, message: str, *, field: str, version: int, epoch: str) -> None:
        super().__init__(message, field=field)
        self.extensions.update({"registryVersion": version, "registryEpoch": epoch})
