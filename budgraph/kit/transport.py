"""What a failed connection means, in words for operators rather than a library's exception text."""

from __future__ import annotations


def transport_reason(error: BaseException) -> str:
    """``it did not answer in time``, ``the connection was refused``, ... for ``error`` or its causes."""
    seen: BaseException | None = error
    while seen is not None:
        name = type(seen).__name__
        if isinstance(seen, TimeoutError) or "Timeout" in name:
            return "it did not answer in time"
        if isinstance(seen, ConnectionRefusedError):
            return "the connection was refused"
        if isinstance(seen, ConnectionResetError) or "RemoteProtocol" in name:
            return "the connection broke off"
        seen = seen.__cause__ or seen.__context__
    return "it could not be reached"
