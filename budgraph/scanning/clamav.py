"""An asyncio client for clamd (ClamAV's daemon), and ClamAV outcomes for a model's files.

Speaks clamd's own protocol over a unix socket (``unix:///run/clamav/clamd.ctl``) or TCP
(``tcp://127.0.0.1:3310``): ``zPING``, ``zVERSION``, and ``zINSTREAM`` followed by chunks, each
prefixed by its length as a 4-byte big-endian integer, and a zero-length chunk. Every reply ends
with a NUL byte.

clamd cannot be asked for its ``StreamMaxLength``; ``stream_max_length`` must match it. A larger
file is NOT_SCANNED without being sent, and if clamd's limit is lower after all it says so and the
file is NOT_SCANNED too. Set ``AlertExceedsMax yes`` in clamd.conf: without it clamd answers OK for
a file it stopped reading at ``MaxFileSize``/``MaxScanSize``; with it, those files come back as
``Heuristics.Limits.Exceeded.*``, reported here as NOT_SCANNED.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from budgraph.scanning.results import ScanOutcome, ScanStatus, Severity

MIB = 1024 * 1024
_SIZE_LIMIT_REPLY = "INSTREAM size limit exceeded. ERROR"
_LIMITS_EXCEEDED = "Heuristics.Limits.Exceeded"
_READ_SIZE = MIB
OutcomeHandler = Callable[[ScanOutcome], Awaitable[None]]


class ClamdError(Exception):
    """clamd could not be reached, timed out, or answered something unexpected."""


class StreamTooLarge(ClamdError):
    """The file is larger than clamd accepts on a stream (its StreamMaxLength)."""


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

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            async with asyncio.timeout(self.connect_timeout):
                if self.address.unix_path is not None:
                    return await asyncio.open_unix_connection(self.address.unix_path)
                return await asyncio.open_connection(self.address.host, self.address.port)
        except (OSError, TimeoutError) as error:
            raise ClamdError(f"cannot connect to clamd at {self.address}: {error!r}") from error

    async def _reply(self, reader: asyncio.StreamReader, seconds: float | None = None) -> str:
        seconds = self.reply_timeout if seconds is None else seconds
        try:
            async with asyncio.timeout(seconds):
                raw = await reader.readuntil(b"\0")
        except TimeoutError as error:
            raise ClamdError(f"clamd at {self.address} did not answer within {seconds:g} s") from error
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            raise ClamdError(f"clamd at {self.address} closed the connection: {error!r}") from error
        return raw[:-1].decode(errors="replace").strip()

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        async with asyncio.timeout(self.reply_timeout):
            await writer.drain()

    async def _command(self, command: bytes) -> str:
        reader, writer = await self._connect()
        try:
            await self._send(writer, b"z" + command + b"\0")
            return await self._reply(reader)
        except (OSError, TimeoutError) as error:
            raise ClamdError(f"clamd at {self.address} dropped the connection: {error!r}") from error
        finally:
            await _close(writer)

    async def ping(self) -> None:
        reply = await self._command(b"PING")
        if reply != "PONG":
            raise ClamdError(f"clamd at {self.address} answered PING with {reply[:200]!r}")

    async def version(self) -> str:
        return await self._command(b"VERSION")

    async def scan_file(self, path: Path) -> str | None:
        """The signature clamd found in the file, or None when it found none.

        Raises ``StreamTooLarge``, ``ClamdError``, or ``OSError`` when the file cannot be read.
        """
        with await asyncio.to_thread(path.open, "rb") as stream:
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
        reader, writer = await self._connect()
        try:
            try:
                await self._send(writer, b"zINSTREAM\0")
            except (OSError, TimeoutError) as error:
                raise ClamdError(f"clamd at {self.address} dropped the connection: {error!r}") from error
            while True:
                block = await asyncio.to_thread(stream.read, _READ_SIZE)
                try:
                    for start in range(0, len(block), self.chunk_size):
                        chunk = block[start : start + self.chunk_size]
                        await self._send(writer, struct.pack(">I", len(chunk)) + chunk)
                    if not block:
                        await self._send(writer, struct.pack(">I", 0))
                        break
                except (OSError, TimeoutError) as error:
                    # clamd closes a stream that goes over its limit, and says so; anything else
                    # after a failed send is an error (the file was not read to its end).
                    with contextlib.suppress(ClamdError):
                        if await self._reply(reader, self.connect_timeout) == _SIZE_LIMIT_REPLY:
                            return _SIZE_LIMIT_REPLY
                    raise ClamdError(f"sending to clamd at {self.address} failed: {error!r}") from error
            return await self._reply(reader)
        finally:
            await _close(writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def _severity(signature: str) -> Severity:
    if signature.startswith("PUA."):
        return Severity.MEDIUM
    if signature.startswith("Heuristics."):
        return Severity.HIGH
    return Severity.CRITICAL


async def outcome_for_file(client: ClamdClient, root: Path, path: str) -> ScanOutcome:
    try:
        signature = await client.scan_file(root / path)
    except StreamTooLarge as error:
        return ScanOutcome("clamav", path, ScanStatus.NOT_SCANNED, detail=str(error))
    except ClamdError as error:
        return ScanOutcome("clamav", path, ScanStatus.ERROR, detail=str(error))
    except OSError as error:
        return ScanOutcome("clamav", path, ScanStatus.ERROR, detail=f"cannot read the file: {error!r}")
    if signature is None:
        return ScanOutcome("clamav", path, ScanStatus.CLEAN)
    if signature.startswith(_LIMITS_EXCEEDED):
        detail = f"clamd stopped at one of its scan limits ({signature})"
        return ScanOutcome("clamav", path, ScanStatus.NOT_SCANNED, detail=detail)
    return ScanOutcome("clamav", path, ScanStatus.FINDING, severity=_severity(signature), finding=signature)


@dataclass(frozen=True)
class ClamavRun:
    outcomes: list[ScanOutcome]
    version: str | None  # None when clamd could not be reached


async def run_clamav(
    client: ClamdClient, root: Path, files: Sequence[str], on_outcome: OutcomeHandler | None = None
) -> ClamavRun:
    """One ClamAV outcome per file in ``files`` (paths relative to ``root``), in order."""
    outcomes: list[ScanOutcome] = []
    version: str | None = None
    unreachable: str | None = None
    try:
        await client.ping()
        version = await client.version()
    except ClamdError as error:
        unreachable = str(error)
    for path in files:
        if unreachable is not None:
            outcome = ScanOutcome("clamav", path, ScanStatus.ERROR, detail=unreachable)
        else:
            outcome = await outcome_for_file(client, root, path)
        outcomes.append(outcome)
        if on_outcome is not None:
            await on_outcome(outcome)
    return ClamavRun(outcomes, version)
