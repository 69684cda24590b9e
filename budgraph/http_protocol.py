"""uvicorn's httptools protocol, with an answer's head and body sent in one write.

uvicorn writes the status line and header fields when the app starts its answer, and the body when
it sends it: two system calls and two TCP segments for every answer, though the app sends both in
the same turn of the event loop. On a cached read that second call was about a tenth of the
process's time. Here the writes a connection makes in one turn go out together at the end of it.

    uvicorn.Config(app, http=CoalescingHttpToolsProtocol)

A connection upgraded to a WebSocket is handed the socket's own transport, as without this.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingTransport:
    """Forwards to a connection's transport, gathering the writes of one event-loop turn."""

    __slots__ = ("_loop", "_pending", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Send what was gathered (nothing if the connection is closing: its peer is gone)."""
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + sum(len(chunk) for chunk in self._pending)

    def __getattr__(self, name: str) -> Any:  # everything else is the transport's own
        return getattr(self.transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        coalescing = CoalescingTransport(transport, asyncio.get_running_loop())
        super().connection_made(cast(asyncio.Transport, coalescing))

    def handle_websocket_upgrade(self) -> None:
        coalescing = cast(CoalescingTransport, self.transport)
        coalescing.flush()
        self.transport = coalescing.transport
        super().handle_websocket_upgrade()
