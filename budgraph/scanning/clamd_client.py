"""An asyncio client for clamd, ClamAV's daemon.

Speaks clamd's own protocol over a unix socket (``unix:///run/clamav/clamd.ctl``) or TCP
(``tcp://127.0.0.1:3310``): ``zPING``, ``zVERSION``, and ``zINSTREAM`` followed by chunks, each
prefixed by its length as a 4-byte big-endian integer, and a zero-length chunk. Every reply ends
with a NUL byte.

clamd cannot be asked for its ``StreamMaxLength``; ``stream_max_length`` must match it. A larger
file raises ``StreamTooLarge`` without being sent, and so does clamd's own refusal if its limit is
lower after all. Set ``AlertExceedsMax yes`` in clamd.conf: without it clamd answers OK for a file
it stopped reading at ``MaxFileSize``/``MaxScanSize``; with it, such a file is reported as
``Heuristics.Limits.Exceeded.*`` (which ``clamav`` turns into NOT_SCANNED).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

MIB = 1024 * 1024
_SIZE_LIMIT_REPLY = "INSTREAM size limit exceeded. ERROR"
_READ_SIZE = MIB
_MAX_REPLY = 64 * 1024


class ClamdError(Exception):
    """clamd could not be reached, timed out, or answered something unexpected."""


class StreamTooLarge(ClamdError):
    """The file is larger than clamd accepts on a stream (its StreamMaxLength)."""


class FileUnreadable(Exception):
    """The file to scan could not be read (not a clamd failure)."""


@dataclass(frozen=True)
class ClamdAddress:
    unix_path: str | None = None
    host: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, address: str) -> ClamdAddress:
        parts = urlsplit(address)
        if parts.scheme == "unix" and parts.path and not parts.netloc:
            return cls(unix_path=parts.path)
        if parts.scheme == "tcp" and parts.hostname and parts.port:
            return cls(host=parts.hostname, port=parts.port)
        raise ValueError(f"clamd address must be unix:///path or tcp://host:port, not {address!r}")

    def __str__(self) -> str:
        return f"unix://{self.unix_path}" if self.unix_path else f"tcp://{self.host}:{self.port}"


class _Connection:
    """One clamd command on a plain non-blocking socket.

    Not asyncio streams: when clamd stops a stream at its limit it replies and closes, and a
    transport whose next write fails drops that unread reply; a socket keeps it readable.
    """

    def __init__(self, sock: socket.socket, address: ClamdAddress) -> None:
        self.sock = sock
        self.address = address

    @classmethod
    async def open(cls, address: ClamdAddress, seconds: float) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(seconds):
                targets: list[tuple[int, int, int, Any]]
                if address.unix_path is not None:
                    targets = [(socket.AF_UNIX, socket.SOCK_STREAM, 0, address.unix_path)]
                else:
                    found = await loop.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
                    targets = [(family, kind, proto, target) for family, kind, proto, _, target in found]
                error: OSError = OSError(f"no address for {address}")
                for family, kind, proto, target in targets:
                    sock = socket.socket(family, kind, proto)
                    sock.setblocking(False)
                    try:
                        await loop.sock_connect(sock, target)
                    except OSError as failure:
                        sock.close()
                        error = failure
                    else:
                        return cls(sock, address)
                raise error
        except (OSError, TimeoutError) as error:
            raise ClamdError(f"cannot connect to clamd at {address}: {error!r}") from error

    async def send(self, data: bytes, seconds: float) -> None:
        async with asyncio.timeout(seconds):
            await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def reply(self, seconds: float) -> str:
        buffer = bytearray()
        try:
            async with asyncio.timeout(seconds):
                while b"\0" not in buffer and len(buffer) < _MAX_REPLY:
                    data = await asyncio.get_running_loop().sock_recv(self.sock, 4096)
                    if not data:
                        raise ClamdError(f"clamd at {self.address} closed the connection without a reply")
                    buffer += data
        except TimeoutError as error:
            raise ClamdError(f"clamd at {self.address} did not answer within {seconds:g} s") from error
        except OSError as error:
            raise ClamdError(f"clamd at {self.address} dropped the connection: {error!r}") from error
        if b"\0" not in buffer:
            raise ClamdError(f"clamd at {self.address} sent a reply longer than {_MAX_REPLY} bytes")
        return buffer[: buffer.index(b"\0")].decode(errors="replace").strip()

    def close(self) -> None:
        self.sock.close()


class ClamdClient:
    def __init__(
        self,
        address: str,
        *,
        chunk_size: int = 64 * 1024,
        stream_max_length: int = 100 * MIB,  # clamd's default
        connect_timeout: float = 10.0,
        reply_timeout: float = 300.0,
    ) -> None:
        if not 0 < chunk_size <= stream_max_length:
            raise ValueError("chunk_size must be positive and at most stream_max_length")
        self.address = ClamdAddress.parse(address)
        self.chunk_size = chunk_size
        self.stream_max_length = stream_max_length
        self.connect_timeout = connect_timeout
        self.reply_timeout = reply_timeout

    async def _command(self, command: bytes) -> str:
        connection = await _Connection.open(self.address, self.connect_timeout)
        try:
            await connection.send(b"z" + command + b"\0", self.reply_timeout)
            return await connection.reply(self.reply_timeout)
        except (OSError, TimeoutError) as error:
            raise ClamdError(f"clamd at {self.address} dropped the connection: {error!r}") from error
        finally:
            connection.close()

    async def ping(self) -> None:
        reply = await self._command(b"PING")
        if reply != "PONG":
            raise ClamdError(f"clamd at {self.address} answered PING with {reply[:200]!r}")

    async def version(self) -> str:
        return await self._command(b"VERSION")

    async def scan_file(self, path: Path) -> str | None:
        """The signature clamd found in the file, or None when it found none.

        Raises ``StreamTooLarge``, ``ClamdError``, or ``FileUnreadable``.
        """
        try:
            stream = await asyncio.to_thread(path.open, "rb")
        except OSError as error:
            raise FileUnreadable(f"cannot read the file: {error!r}") from error
        with stream:
            size = await asyncio.to_thread(lambda: os.fstat(stream.fileno()).st_size)
            if size > self.stream_max_length:
                raise StreamTooLarge(
                    f"{size} bytes, over the StreamMaxLength of clamd ({self.stream_max_length} bytes)"
                )
            reply = await self._instream(stream)
        if reply == _SIZE_LIMIT_REPLY:
            raise StreamTooLarge(f"clamd refused the stream: {reply}")
        if reply == "stream: OK":
            return None
        if reply.startswith("stream: ") and reply.endswith(" FOUND"):
            return reply.removeprefix("stream: ").removesuffix(" FOUND")
        raise ClamdError(f"clamd at {self.address} answered INSTREAM with {reply[:200]!r}")

    async def _instream(self, stream: BinaryIO) -> str:
        connection = await _Connection.open(self.address, self.connect_timeout)
        try:
            try:
                await connection.send(b"zINSTREAM\0", self.reply_timeout)
                while block := await _read(stream):
                    for start in range(0, len(block), self.chunk_size):
                        chunk = block[start : start + self.chunk_size]
                        await connection.send(struct.pack(">I", len(chunk)) + chunk, self.reply_timeout)
                await connection.send(struct.pack(">I", 0), self.reply_timeout)
            except (OSError, TimeoutError) as error:
                # clamd closes a stream that goes over its limit, and says so; anything else after
                # a failed send is an error: the file was not read to its end.
                with contextlib.suppress(ClamdError):
                    if await connection.reply(self.connect_timeout) == _SIZE_LIMIT_REPLY:
                        return _SIZE_LIMIT_REPLY
                raise ClamdError(f"sending to clamd at {self.address} failed: {error!r}") from error
            return await connection.reply(self.reply_timeout)
        finally:
            connection.close()


async def _read(stream: BinaryIO) -> bytes:
    try:
        return await asyncio.to_thread(stream.read, _READ_SIZE)
    except OSError as error:
        raise FileUnreadable(f"cannot read the file: {error!r}") from error
