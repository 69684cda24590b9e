"""The clamd client against a real clamd (started by the session fixture), and against failures."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from budgraph.scanning.clamav import ClamdClient, ClamdError, run_clamav
from budgraph.scanning.results import ScanOutcome, ScanStatus, Severity
from tests.scanning.conftest import STREAM_MAX_LENGTH, Clamd, eicar, requires_clamd, start_clamd

pytestmark = requires_clamd
SIGNATURE = "Eicar-Test-Signature.UNOFFICIAL"  # clamd marks signatures from unsigned databases


def client(address: str, **options: float) -> ClamdClient:
    return ClamdClient(address, stream_max_length=STREAM_MAX_LENGTH, **options)  # type: ignore[arg-type]


async def test_ping_and_version(clamd: Clamd) -> None:
    await client(clamd.address).ping()
    assert (await client(clamd.address).version()).startswith("ClamAV 1.")


async def test_eicar_is_found_and_a_clean_file_is_clean(clamd: Clamd, tmp_path: Path) -> None:
    (tmp_path / "eicar.com").write_bytes(eicar())
    (tmp_path / "config.json").write_text('{"hidden_size": 4096}')

    run = await run_clamav(client(clamd.address, chunk_size=16), tmp_path, ["eicar.com", "config.json"])

    assert run.outcomes == [
        ScanOutcome("clamav", "eicar.com", ScanStatus.FINDING, severity=Severity.CRITICAL, finding=SIGNATURE),
        ScanOutcome("clamav", "config.json", ScanStatus.CLEAN),
    ]
    assert run.version is not None
    assert run.version.startswith("ClamAV 1.")


async def test_eicar_split_over_many_chunks_is_found(clamd: Clamd, tmp_path: Path) -> None:
    (tmp_path / "padded.bin").write_bytes(eicar() + bytes(300_000))

    assert await ClamdClient(clamd.address, chunk_size=7).scan_file(tmp_path / "padded.bin") == SIGNATURE


async def test_a_file_over_stream_max_length_is_not_scanned(clamd: Clamd, tmp_path: Path) -> None:
    (tmp_path / "exact.bin").write_bytes(bytes(STREAM_MAX_LENGTH))
    (tmp_path / "large.bin").write_bytes(bytes(STREAM_MAX_LENGTH + 1))

    run = await run_clamav(client(clamd.address), tmp_path, ["exact.bin", "large.bin"])

    assert run.outcomes == [
        ScanOutcome("clamav", "exact.bin", ScanStatus.CLEAN),
        ScanOutcome(
            "clamav",
            "large.bin",
            ScanStatus.NOT_SCANNED,
            detail=f"{STREAM_MAX_LENGTH + 1} bytes, over the StreamMaxLength of clamd ({STREAM_MAX_LENGTH} bytes)",
        ),
    ]


async def test_a_file_over_the_limit_clamd_enforces_is_not_scanned(clamd: Clamd, tmp_path: Path) -> None:
    # The client believes the limit is higher than clamd's: clamd stops the stream and says so.
    (tmp_path / "large.bin").write_bytes(bytes(STREAM_MAX_LENGTH + 1))
    lenient = ClamdClient(clamd.address, stream_max_length=10 * STREAM_MAX_LENGTH)

    run = await run_clamav(lenient, tmp_path, ["large.bin"])

    assert run.outcomes == [
        ScanOutcome(
            "clamav",
            "large.bin",
            ScanStatus.NOT_SCANNED,
            detail="clamd refused the stream: INSTREAM size limit exceeded. ERROR",
        )
    ]


async def test_no_socket_is_an_error_for_every_file(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"a")
    (tmp_path / "b.bin").write_bytes(b"b")
    address = f"unix://{tmp_path}/missing.sock"

    run = await run_clamav(client(address), tmp_path, ["a.bin", "b.bin"])

    assert [outcome.status for outcome in run.outcomes] == [ScanStatus.ERROR, ScanStatus.ERROR]
    assert run.outcomes[0].detail == (
        f"cannot connect to clamd at {address}: FileNotFoundError(2, 'No such file or directory')"
    )
    assert run.version is None


async def test_a_stopped_daemon_is_an_error(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    stopped = start_clamd(tmp_path_factory.mktemp("clamd-stopped"))
    await client(stopped.address).ping()
    stopped.stop()
    (tmp_path / "eicar.com").write_bytes(eicar())

    run = await run_clamav(client(stopped.address), tmp_path, ["eicar.com"])

    [outcome] = run.outcomes
    assert outcome.status is ScanStatus.ERROR
    assert outcome.detail is not None
    assert outcome.detail.startswith(f"cannot connect to clamd at {stopped.address}")


async def test_a_closed_tcp_port_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, and nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "a.bin").write_bytes(b"a")

    run = await run_clamav(client(f"tcp://127.0.0.1:{port}"), tmp_path, ["a.bin"])

    assert run.outcomes[0].status is ScanStatus.ERROR
    assert "ConnectionRefusedError" in (run.outcomes[0].detail or "")


Handler = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def fake_clamd(socket_path: Path, on_instream: Handler) -> AsyncIterator[str]:
    """A server that answers PING and VERSION as clamd does, and INSTREAM with ``on_instream``."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command = await reader.readuntil(b"\0")
        if command == b"zPING\0":
            writer.write(b"PONG\0")
        elif command == b"zVERSION\0":
            writer.write(b"ClamAV 0.0-fake\0")
        else:
            await on_instream(command, reader, writer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(serve, path=str(socket_path))
    async with server:
        yield f"unix://{socket_path}"


async def read_stream(reader: asyncio.StreamReader) -> bytes:
    """The data of an INSTREAM command: length-prefixed chunks up to a zero-length one."""
    data = b""
    while size := struct.unpack(">I", await reader.readexactly(4))[0]:
        data += await reader.readexactly(size)
    return data


async def test_a_garbled_reply_is_an_error(tmp_path: Path) -> None:
    async def garble(_command: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert await read_stream(reader) == b"a"
        writer.write(b"stream: maybe\0")

    (tmp_path / "a.bin").write_bytes(b"a")
    async with fake_clamd(tmp_path / "fake.sock", garble) as address:
        run = await run_clamav(client(address), tmp_path, ["a.bin"])

    assert run.outcomes == [
        ScanOutcome(
            "clamav",
            "a.bin",
            ScanStatus.ERROR,
            detail=f"clamd at {address} answered INSTREAM with 'stream: maybe'",
        )
    ]


async def test_a_daemon_that_hangs_up_or_stalls_is_an_error(tmp_path: Path) -> None:
    async def hang_up(_command: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(10)

    async def stall(_command: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    (tmp_path / "a.bin").write_bytes(b"a" * 1000)
    async with fake_clamd(tmp_path / "hangs-up.sock", hang_up) as address:
        hung_up = await run_clamav(client(address, reply_timeout=0.5), tmp_path, ["a.bin"])
    async with fake_clamd(tmp_path / "stalls.sock", stall) as address:
        stalled = await run_clamav(client(address, reply_timeout=0.5), tmp_path, ["a.bin"])

    assert hung_up.outcomes[0].status is ScanStatus.ERROR
    assert stalled.outcomes == [
        ScanOutcome(
            "clamav", "a.bin", ScanStatus.ERROR, detail=f"clamd at {address} did not answer within 0.5 s"
        )
    ]


def test_addresses_are_checked() -> None:
    with pytest.raises(ValueError, match="unix:///path or tcp://host:port"):
        ClamdClient("/run/clamav/clamd.ctl")
    with pytest.raises(ValueError, match="unix:///path or tcp://host:port"):
        ClamdClient("tcp://localhost")
    assert str(ClamdClient("tcp://localhost:3310").address) == "tcp://localhost:3310"


async def test_ping_fails_without_a_daemon(tmp_path: Path) -> None:
    with pytest.raises(ClamdError, match="cannot connect"):
        await client(f"unix://{tmp_path}/none.sock").ping()


async def test_a_file_that_cannot_be_read_is_an_error(clamd: Clamd, tmp_path: Path) -> None:
    (tmp_path / "directory.bin").mkdir()

    run = await run_clamav(client(clamd.address), tmp_path, ["directory.bin"])

    assert run.outcomes == [
        ScanOutcome(
            "clamav",
            "directory.bin",
            ScanStatus.ERROR,
            detail="cannot read the file: IsADirectoryError(21, 'Is a directory')",
        )
    ]
