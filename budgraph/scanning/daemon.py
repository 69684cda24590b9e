"""clamd, ClamAV's daemon, through the ``clamd`` package (blocking sockets, so each call runs in a thread).

The address is ``unix:///run/clamav/clamd.ctl`` or ``tcp://127.0.0.1:3310``. The package speaks the
protocol (``PING``, ``VERSION``, ``INSTREAM`` in length-prefixed chunks); this module adds what a
scanner that fails closed needs around it:

- a connect timeout (the package connects without one) and a reply timeout;
- writes that are whole (the package calls ``send`` once per chunk, which may write part of it);
- clamd's refusal of a stream over its ``StreamMaxLength``: clamd says so and hangs up, and the
  package would die on its next write without reading that answer. Writes after the hang-up are
  dropped and the stream ends, so the answer is read and reported as ``StreamTooLarge``;
- every answer that is not a clean result or a signature (no answer at all included) is an error.

clamd cannot be asked for its ``StreamMaxLength``; ``stream_max_length`` must match it, and a larger
file raises ``StreamTooLarge`` without being sent. Set ``AlertExceedsMax yes`` in clamd.conf: without
it clamd answers OK for a file it stopped reading at ``MaxFileSize``/``MaxScanSize``; with it, such a
file is reported as ``Heuristics.Limits.Exceeded.*`` (which ``clamav`` turns into NOT_SCANNED).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal
from urllib.parse import urlsplit

import clamd

MIB = 1024 * 1024


class ClamdError(Exception):
    """clamd could not be reached, timed out, or answered something that is not a scan result."""


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


class _Socket:
    """The socket the package writes to and reads from: whole writes, and none after clamd hung up."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.hung_up = False

    def send(self, data: bytes) -> int:
        if not self.hung_up:
            try:
                self.sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                self.hung_up = True  # clamd's answer (if it gave one) is still there to read
        return len(data)

    def makefile(self, mode: Literal["rb"]) -> BinaryIO:
        return self.sock.makefile(mode)

    def settimeout(self, seconds: float | None) -> None:
        self.sock.settimeout(seconds)

    def close(self) -> None:
        self.sock.close()


class _Stream:
    """The file as the package reads it for INSTREAM: it ends early once clamd has hung up."""

    def __init__(self, file: BinaryIO, connection: _Connection) -> None:
        self.file = file
        self.connection = connection

    def read(self, size: int) -> bytes:
        link = self.connection.link
        if link is not None and link.hung_up:
            return b""
        try:
            return self.file.read(size)
        except OSError as error:
            raise FileUnreadable(_unreadable(error)) from error


class _Connection:
    """What the package's client classes need from a connection, with timeouts; one per command."""

    def __init__(self, address: ClamdAddress, connect_timeout: float, reply_timeout: float) -> None:
        self.address = address
        self.connect_timeout = connect_timeout
        self.reply_timeout = reply_timeout
        self.link: _Socket | None = None

    def open(self) -> _Socket:
        if self.address.unix_path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.connect_timeout)
                sock.connect(self.address.unix_path)
            except BaseException:
                sock.close()
                raise
        else:
            assert self.address.host is not None
            assert self.address.port is not None
            sock = socket.create_connection((self.address.host, self.address.port), self.connect_timeout)
        sock.settimeout(self.reply_timeout)
        self.link = _Socket(sock)
        return self.link


class _PackageClient(clamd.ClamdNetworkSocket):  # type: ignore[misc]  # the package has no types
    """The package's client, connecting through a ``_Connection`` instead of its own untimed connect."""

    def __init__(self, connection: _Connection) -> None:
        super().__init__(timeout=connection.reply_timeout)
        self.connection = connection

    def _init_socket(self) -> None:
        try:
            self.clamd_socket = self.connection.open()
        except OSError as error:
            raise clamd.ConnectionError(f"cannot connect to clamd: {error!r}") from error


Command = Callable[[_PackageClient], Any]


class ClamdClient:
    def __init__(
        self,
        address: str,
        *,
        stream_max_length: int = 100 * MIB,  # clamd's default
        connect_timeout: float = 10.0,
        reply_timeout: float = 300.0,
    ) -> None:
        if stream_max_length <= 0:
            raise ValueError("stream_max_length must be positive")
        self.address = ClamdAddress.parse(address)
        self.stream_max_length = stream_max_length
        self.connect_timeout = connect_timeout
        self.reply_timeout = reply_timeout

    def _connection(self) -> _Connection:
        return _Connection(self.address, self.connect_timeout, self.reply_timeout)

    async def ping(self) -> None:
        reply = await asyncio.to_thread(self._call, lambda client: client.ping())
        if reply != "PONG":
            raise ClamdError(f"clamd answered PING with {str(reply)[:100]!r}")

    async def version(self) -> str:
        reply = await asyncio.to_thread(self._call, lambda client: client.version())
        return str(reply)

    def _call(self, command: Command, connection: _Connection | None = None) -> Any:
        try:
            return command(_PackageClient(connection or self._connection()))
        except clamd.BufferTooLongError as error:
            raise StreamTooLarge(f"clamd refused the stream: {error}") from error
        except clamd.ResponseError as error:
            answer = str(error)[:100]
            raise ClamdError(f"clamd gave an answer that is not a scan result ({answer!r})") from error
        except (clamd.ClamdError, OSError) as error:  # the package's ConnectionError, timeouts, resets
            raise ClamdError(why_unreachable(error)) from error

    async def scan_file(self, path: Path) -> str | None:
        """The signature clamd found in the file, or None when it found none.

        Raises ``StreamTooLarge``, ``ClamdError``, or ``FileUnreadable``.
        """
        return await asyncio.to_thread(self._scan_file, path)

    def _scan_file(self, path: Path) -> str | None:
        try:
            file = path.open("rb")
        except OSError as error:
            raise FileUnreadable(_unreadable(error)) from error
        with file:
            size = os.fstat(file.fileno()).st_size
            if size > self.stream_max_length:
                raise StreamTooLarge(
                    f"{size} bytes, over the StreamMaxLength of clamd ({self.stream_max_length} bytes)"
                )
            connection = self._connection()
            answer = self._call(lambda client: client.instream(_Stream(file, connection)), connection)
        result = answer.get("stream") if isinstance(answer, dict) else None
        if result is None:
            raise ClamdError("clamd closed the connection without a scan result")
        status, signature = result
        if status == "OK":
            return None
        if status == "FOUND" and signature:
            return str(signature)
        raise ClamdError(f"clamd could not scan the file ({str(signature or status)[:100]})")


def why_unreachable(error: BaseException) -> str:
    """Why clamd could not be used, in words (the address and errno go to the log, not here)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return "clamd did not answer in time"
        if isinstance(seen, (FileNotFoundError, ConnectionRefusedError)):
            return "clamd is not running (nothing listens at its address)"
        if isinstance(seen, PermissionError):
            return "clamd's socket may not be used by the worker (permission denied)"
        if isinstance(seen, (BrokenPipeError, ConnectionResetError)):
            return "clamd dropped the connection"
        seen = seen.__cause__ or seen.__context__
    return "clamd could not be reached"


def _unreadable(error: OSError) -> str:
    if isinstance(error, IsADirectoryError):
        return "the file cannot be read: it is a directory"
    if isinstance(error, FileNotFoundError):
        return "the file cannot be read: it does not exist"
    if isinstance(error, PermissionError):
        return "the file cannot be read: permission denied"
    return "the file cannot be read"
