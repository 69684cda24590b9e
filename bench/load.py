"""Load with wrk: a Lua script POSTs one JSON body at a fixed concurrency and, when done, prints the
throughput, latency percentiles and errors (non-2xx answers and socket errors) as one JSON line.

wrk keeps its connections open (HTTP/1.1 keep-alive), so the numbers are the servers', not the
TCP handshakes'. Threads: at most two (the machine has two cores) and at most the concurrency.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = [==[%(body)s]==]
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d,'
    .. ' "status": %%d, "timeout": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "mean_us": %%f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean))
end
"""


@dataclass(frozen=True)
class Cell:
    concurrency: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "errors": self.errors}


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian's package when missing (as root, like `make bench`)."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk)")
    return found


def run_wrk(url: str, body: dict[str, Any], concurrency: int, seconds: float) -> Cell:
    text = json.dumps(body)
    if "]==]" in text:
        raise ValueError("the body cannot be written as a Lua long string")
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "post.lua"
        script.write_text(SCRIPT % {"body": text})
        result = subprocess.run(
            [
                ensure_wrk(),
                "-t",
                str(min(2, concurrency)),
                "-c",
                str(concurrency),
                "-d",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH_RESULT "))
    found = json.loads(line.removeprefix("BENCH_RESULT "))
    duration = found["duration_us"] / 1e6
    return Cell(
        concurrency=concurrency,
        seconds=round(duration, 2),
        requests=found["requests"],
        rps=round(found["requests"] / duration, 1) if duration else 0.0,
        p50_ms=round(found["p50_us"] / 1000, 2),
        p95_ms=round(found["p95_us"] / 1000, 2),
        p99_ms=round(found["p99_us"] / 1000, 2),
        non_2xx=found["status"],
        socket_errors=found["connect"] + found["read"] + found["write"] + found["timeout"],
    )
