"""The clamd client (the ``clamd`` package, failing closed) against a real clamd started by the session
fixture, and against daemons that fail."""

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
NOT_RUNNING = "clamd is not running (nothing listens at its address); the file was not scanned"


def client(address: str, **options: float) -> ClamdClient:
    return ClamdClient(address, stream_max_length=STREAM_MAX_LENGTH, **options)  # type: ignore[arg-type]


async def test_ping_and_version(clamd: Clamd) -> None:
    await client(clamd.address).ping()
    assert (await client(clamd.address).version()).startswith("ClamAV 1.")


async def test_eicar_is_found_and_a_clean_file_is_clean(clamd: Clamd, tmp_path: Path) -> None:
    (tmp_path / "eicar.com").write_bytes(eicar())
    (tmp_path / "config.json").write_text('{"hidden_size": 4096}')

    run = await run_clamav(client(clamd.address), tmp_path, ["eicar.com", "config.json"])

    assert run.outcomes == [
        ScanOutcome("clamav", "eicar.com", ScanStatus.FINDING, severity=Severity.CRITICAL, finding=SIGNATURE),
        ScanOutcome("clamav", "config.json", ScanStatus.CLEAN),
    ]
    assert run.version is not None
    assert run.version.startswith("ClamAV 1.")


async def test_eicar_in_a_file_streamed_in_many_chunks_is_found(clamd: Clamd, tmp_path: Path) -> None:
    (tmp_path / "padded.bin").write_bytes(eicar() + bytes(300_000))  # about 300 INSTREAM chunks

    assert await ClamdClient(clamd.address).scan_file(tmp_path / "padded.bin") == SIGNATURE


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


@pytest.mark.parametrize("size", [STREAM_MAX_LENGTH + 1, 3 * STREAM_MAX_LENGTH])
async def test_a_file_over_the_limit_clamd_enforces_is_not_scanned(
    clamd: Clamd, tmp_path: Path, size: int
) -> None:
    # The client believes the limit is higher than clamd's: clamd stops the stream, says so and
    # hangs up, just past its limit or long before the file ends.
    (tmp_path / "large.bin").write_bytes(bytes(size))
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
    assert run.outcomes[0].detail == NOT_RUNNING
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
    assert outcome.detail == NOT_RUNNING


async def test_a_closed_tcp_port_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, and nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "a.bin").write_bytes(b"a")

    run = await run_clamav(client(f"tcp://127.0.0.1:{port}"), tmp_path, ["a.bin"])

    assert (run.outcomes[0].status, run.outcomes[0].detail) == (ScanStatus.ERROR, NOT_RUNNING)


Handler = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def fake_clamd(socket_path: Path, on_instream: Handler) -> AsyncIterator[str]:
    """A server that answers PING and VERSION as clamd does (the package sends newline-terminated
    `n` commands), and INSTREAM with ``on_instream``."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command = await reader.readuntil(b"\n")
        if command == b"nPING\n":
            writer.write(b"PONG\n")
        elif command == b"nVERSION\n":
            writer.write(b"ClamAV 0.0-fake\n")
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
        writer.write(b"stream: maybe\n")

    (tmp_path / "a.bin").write_bytes(b"a")
    async with fake_clamd(tmp_path / "fake.sock", garble) as address:
        run = await run_clamav(client(address), tmp_path, ["a.bin"])

    assert run.outcomes == [
        ScanOutcome(
            "clamav",
            "a.bin",
            ScanStatus.ERROR,
            detail="clamd gave an answer that is not a scan result ('stream: maybe')",
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

    # It hangs up while the file is still being sent: the client sees the end of the stream or a
    # reset, whichever the kernel delivers first; both are an error, never a clean scan.
    assert [(o.scanner, o.path, o.status) for o in hung_up.outcomes] == [
        ("clamav", "a.bin", ScanStatus.ERROR)
    ]
    assert hung_up.outcomes[0].detail in (
        "clamd closed the connection without a scan result",
        "clamd dropped the connection",
    )
    assert stalled.outcomes == [
        ScanOutcome("clamav", "a.bin", ScanStatus.ERROR, detail="clamd did not answer in time")
    ]


async def test_no_answer_and_an_error_answer_are_errors_never_clean(tmp_path: Path) -> None:
    async def silent(_command: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_stream(reader)  # the whole stream, then hang up without a word

    async def refuse(_command: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_stream(reader)
        writer.write(b"stream: Can't allocate memory ERROR\n")

    (tmp_path / "a.bin").write_bytes(b"a" * 5000)
    async with fake_clamd(tmp_path / "silent.sock", silent) as address:
        quiet = await run_clamav(client(address), tmp_path, ["a.bin"])
    async with fake_clamd(tmp_path / "refuses.sock", refuse) as address:
        refused = await run_clamav(client(address), tmp_path, ["a.bin"])

    assert quiet.outcomes == [
        ScanOutcome(
            "clamav", "a.bin", ScanStatus.ERROR, detail="clamd closed the connection without a scan result"
        )
    ]
    assert refused.outcomes == [
        ScanOutcome(
            "clamav",
            "a.bin",
            ScanStatus.ERROR,
            detail="clamd could not scan the file (Can't allocate memory)",
        )
    ]


def test_addresses_are_checked() -> None:
    with pytest.raises(ValueError, match="unix:///path or tcp://host:port"):
        ClamdClient("/run/clamav/clamd.ctl")
    with pytest.raises(ValueError, match="unix:///path or tcp://host:port"):
        ClamdClient("tcp://localhost")
    assert str(ClamdClient("tcp://localhost:3310").address) == "tcp://localhost:3310"


async def test_ping_fails_without_a_daemon(tmp_path: Path) -> None:
    with pytest.raises(ClamdError, match="clamd is not running"):
        await client(f"unix://{tmp_path}/none.sock").ping()


async def test_a_file_that_cannot_be_read_is_an_error(clamd: Clamd, tmp_path: Path) -> None:
    (tmp_path / "directory.bin").mkdir()

    run = await run_clamav(client(clamd.address), tmp_path, ["directory.bin"])

    assert run.outcomes == [
        ScanOutcome(
            "clamav",
            "directory.bin",
            ScanStatus.ERROR,
            detail="the file cannot be read: it is a directory",
        )
    ]
