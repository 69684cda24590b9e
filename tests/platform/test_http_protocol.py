"""The served protocol sends an answer's head and body in one write, and loses nothing on close."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import httpx
import pytest
import uvicorn

from budgraph.http_protocol import CoalescingHttpToolsProtocol, CoalescingTransport
from budgraph.server import uvicorn_config
from budgraph.settings import Settings


class RecordingTransport:
    """The socket's side of a transport: what was written, and whether it was closed."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("192.0.2.7", 4711)}.get(name, default)


async def test_the_writes_of_one_turn_go_out_as_one() -> None:
    socket_side = RecordingTransport()
    transport = CoalescingTransport(socket_side, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"{}")
    assert socket_side.writes == []
    assert transport.get_write_buffer_size() == 40
    await asyncio.sleep(0)
    assert socket_side.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    # what is not the writes' is the transport's own
    assert transport.get_extra_info("peername") == ("192.0.2.7", 4711)


async def test_closing_sends_what_was_gathered_first_and_a_closed_peer_gets_nothing() -> None:
    socket_side = RecordingTransport()
    transport = CoalescingTransport(socket_side, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"last words")
    transport.close()
    assert (socket_side.writes, socket_side.closed) == ([b"last words"], True)
    transport.write(b"too late")
    await asyncio.sleep(0)
    assert socket_side.writes == [b"last words"]


def test_the_api_is_served_with_the_coalescing_protocol() -> None:
    config = uvicorn_config(object(), Settings())
    assert config.http is CoalescingHttpToolsProtocol


@pytest.mark.parametrize("requests", [1, 3])
def test_answers_over_keep_alive_arrive_whole(requests: int) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
        await send({"type": "http.response.body", "body": b"hello"})

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=CoalescingHttpToolsProtocol, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}") as client:
            answers = [client.get("/") for _ in range(requests)]  # one connection, kept alive
    finally:
        server.should_exit = True
        thread.join(timeout=15)
    assert [(a.status_code, a.text) for a in answers] == [(200, "hello")] * requests
