"""A real clamd per test session (its own config, socket and signature database), and model files.

The signature database is tests/scanning/data/eicar-test.ndb: one signature, "Eicar-Test-Signature",
for the EICAR test file. The EICAR bytes themselves are only ever built at run time (``eicar()``),
so no file in the repository trips a virus scanner.
"""

from __future__ import annotations

import os
import pickle
import shutil
import socket
import struct
import subprocess
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
CLAMD = shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/usr/local/sbin")
requires_clamd = pytest.mark.skipif(
    CLAMD is None,
    reason="the clamd binary is not installed (Debian: apt-get install -y clamav-daemon)",
)
STREAM_MAX_LENGTH = 2 * 1024 * 1024  # StreamMaxLength of the test clamd
READY_TIMEOUT = 90.0


def eicar() -> bytes:
    """The EICAR anti-virus test file, assembled here so that no file in the repository is one."""
    return b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-" + b"ANTIVIRUS-TEST-FILE!$H+H*"


class Evil:
    """Pickles to a call of os.system. Only ever pickled (which records the call, not runs it)."""

    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.canary}",))


def evil_pickle(canary: Path) -> bytes:
    """A pickle that would create ``canary`` if it were ever loaded."""
    return pickle.dumps(Evil(canary), protocol=4)


def torch_style_zip(path: Path, data_pkl: bytes) -> None:
    """The layout of ``torch.save`` (zip format): a pickle at archive/data.pkl beside raw storages."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/data/0", struct.pack("<4f", 1.0, 2.0, 3.0, 4.0))
        archive.writestr("archive/version", "3\n")
        archive.writestr("archive/.data/serialization_id", "1234567890")


def safetensors(path: Path) -> None:
    header = b'{"weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    path.write_bytes(struct.pack("<Q", len(header)) + header + struct.pack("<2f", 0.5, 1.5))


@dataclass(frozen=True)
class Clamd:
    address: str
    socket_path: Path
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _ping(socket_path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(2)
            connection.connect(str(socket_path))
            connection.sendall(b"zPING\0")
            return connection.recv(16) == b"PONG\0"
    except OSError:
        return False


def start_clamd(workdir: Path) -> Clamd:
    """clamd in the foreground with its own config; returns once it answers PING with PONG."""
    assert CLAMD is not None
    socket_path = workdir / "clamd.sock"
    log = workdir / "clamd.log"
    config = workdir / "clamd.conf"
    config.write_text(
        f"LocalSocket {socket_path}\n"
        f"DatabaseDirectory {DATA}\n"
        f"TemporaryDirectory {workdir}\n"
        f"LogFile {log}\n"
        "Foreground yes\n"
        f"StreamMaxLength {STREAM_MAX_LENGTH // (1024 * 1024)}M\n"
        "AlertExceedsMax yes\n"
    )
    with (workdir / "clamd.out").open("wb") as out:
        process = subprocess.Popen(
            [CLAMD, f"--config-file={config}"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    clamd = Clamd(f"unix://{socket_path}", socket_path, process, log)
    deadline = time.monotonic() + READY_TIMEOUT
    while not _ping(socket_path):
        if process.poll() is not None or time.monotonic() > deadline:
            clamd.stop()
            output = (workdir / "clamd.out").read_text(errors="replace")
            pytest.fail(f"clamd did not start (exit {process.returncode}):\n{output}")
        time.sleep(0.1)
    return clamd


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    if CLAMD is None:
        pytest.skip("the clamd binary is not installed (Debian: apt-get install -y clamav-daemon)")
    daemon = start_clamd(tmp_path_factory.mktemp("clamd"))
    try:
        yield daemon
    finally:
        daemon.stop()
