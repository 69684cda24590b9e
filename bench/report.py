"""What a run found, for people (tables), for tools (JSON) and at a glance (a PNG chart).

Ratios are taken at concurrency 8 (the column every run has by default): budgraph's throughput
over PostGraphile's and over the floor's (below 1: budgraph serves fewer requests a second), and
each server's latency at 10x over its latency at 1x (above 1: it slows down as the data grows).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RATIO_CONCURRENCY = 8


def usable(cell: dict[str, Any] | None) -> bool:
    """A cell whose answers were mostly errors (a server answering 503 fast) times nothing useful."""
    return cell is not None and cell["errors"] * 2 <= cell["requests"]


def _cell(result: dict[str, Any], scenario: str, server: str, concurrency: int) -> dict[str, Any] | None:
    return next(
        (
            c
            for c in result["cells"]
            if c["scenario"] == scenario and c["server"] == server and c["concurrency"] == concurrency
        ),
        None,
    )


def table(result: dict[str, Any]) -> str:
    header = (
        f"{'scenario':<24} {'server':<16} {'c':>3} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'errors':>7} {'stmts/req':>10} {'tx/req':>7}"
    )
    lines = [f"scale {result['scale']}", header, "-" * len(header)]
    for c in result["cells"]:
        lines.append(
            f"{c['scenario']:<24} {c['server']:<16} {c['concurrency']:>3} {c['rps']:>9.1f} {c['p50_ms']:>8.2f}"
            f" {c['p95_ms']:>8.2f} {c['p99_ms']:>8.2f} {c['errors']:>7} {c['statements_per_request']:>10.2f}"
            f" {c['transaction_control_per_request']:>7.2f}"
            + ("" if usable(c) else "  <- mostly errors: not a throughput")
        )
    for server, found in result.get("failures", {}).items():
        for scenario, message in found.items():
            lines.append(f"NOT LOADED {scenario} on {server}: {message[:300]}")
    return "\n".join(lines)


def ratios(result: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """budgraph's req/s over PostGraphile's and the floor's, per scenario, at c8."""
    found: dict[str, dict[str, float | None]] = {}
    for scenario in dict.fromkeys(c["scenario"] for c in result["cells"]):
        ours = _cell(result, scenario, "budgraph", RATIO_CONCURRENCY)
        row: dict[str, float | None] = {}
        for other in ("postgraphile", "floor"):
            theirs = _cell(result, scenario, other, RATIO_CONCURRENCY)
            row[f"budgraph/{other}"] = (
                round(ours["rps"] / theirs["rps"], 3)
                if ours and theirs and usable(ours) and usable(theirs) and theirs["rps"]
                else None
            )
        found[scenario] = row
    return found


def growth(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, float | None]]]:
    """p50 and p99 latency at 10x over 1x, per scenario and server, at c8."""
    if "1x" not in results or "10x" not in results:
        return {}
    small, large = results["1x"], results["10x"]
    found: dict[str, dict[str, dict[str, float | None]]] = {}
    for c in large["cells"]:
        if c["concurrency"] != RATIO_CONCURRENCY:
            continue
        base = _cell(small, c["scenario"], c["server"], RATIO_CONCURRENCY)
        if not (usable(base) and usable(c)):
            base = None
        found.setdefault(c["scenario"], {})[c["server"]] = {
            "p50": round(c["p50_ms"] / base["p50_ms"], 2) if base and base["p50_ms"] else None,
            "p99": round(c["p99_ms"] / base["p99_ms"], 2) if base and base["p99_ms"] else None,
        }
    return found


def summary(results: dict[str, dict[str, Any]]) -> str:
    lines = []
    for name, result in results.items():
        lines.append(f"\nbudgraph's req/s over the others' at c{RATIO_CONCURRENCY}, scale {name}")
        for scenario, row in ratios(result).items():
            shown = "  ".join(f"{k} {v if v is not None else '-'}" for k, v in row.items())
            lines.append(f"  {scenario:<24} {shown}")
    grown = growth(results)
    if grown:
        lines.append(f"\nlatency 10x / 1x at c{RATIO_CONCURRENCY} (p50, p99)")
        for scenario, servers in grown.items():
            shown = "  ".join(f"{server} {v['p50']}/{v['p99']}" for server, v in servers.items())
            lines.append(f"  {scenario:<24} {shown}")
    return "\n".join(lines)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")


def chart(results: dict[str, dict[str, Any]], path: Path) -> None:
    """Req/s per scenario per server at c8 (one panel per scale), and p50 latency at 1x vs 10x."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = list(results)
    panels = len(scales) + (1 if len(scales) > 1 else 0)
    figure, axes = plt.subplots(panels, 1, figsize=(12, 4.5 * panels), squeeze=False)
    for axis, name in zip(axes[:, 0], scales, strict=False):
        cells = [c for c in results[name]["cells"] if c["concurrency"] == RATIO_CONCURRENCY]
        scenarios = list(dict.fromkeys(c["scenario"] for c in cells))
        servers = list(dict.fromkeys(c["server"] for c in cells))
        width = 0.8 / max(1, len(servers))
        for i, server in enumerate(servers):
            # A cell of mostly errors has no bar: its rate is of error answers.
            values = [
                next(
                    (c["rps"] for c in cells if c["scenario"] == s and c["server"] == server and usable(c)), 0
                )
                for s in scenarios
            ]
            axis.bar([x + i * width for x in range(len(scenarios))], values, width, label=server)
        axis.set_xticks([x + width * (len(servers) - 1) / 2 for x in range(len(scenarios))], scenarios)
        axis.set_ylabel("req/s (log)")
        axis.set_yscale("log")
        axis.set_title(f"{name}: requests per second at concurrency {RATIO_CONCURRENCY}")
        axis.legend(fontsize=8)
    if len(scales) > 1:
        axis = axes[-1, 0]
        small = [c for c in results["1x"]["cells"] if c["concurrency"] == RATIO_CONCURRENCY]
        pairs = [(c["scenario"], c["server"]) for c in small]
        labels = [f"{s}\n{srv}" for s, srv in pairs]
        for offset, name in ((0.0, "1x"), (0.4, "10x")):
            found = [_cell(results[name], s, srv, RATIO_CONCURRENCY) for s, srv in pairs]
            values = [c["p50_ms"] if c is not None and usable(c) else 0 for c in found]
            axis.bar([x + offset for x in range(len(pairs))], values, 0.4, label=name)
        axis.set_xticks([x + 0.2 for x in range(len(pairs))], labels, fontsize=6, rotation=90)
        axis.set_ylabel("p50 ms")
        axis.set_yscale("log")
        axis.set_title(f"p50 latency at concurrency {RATIO_CONCURRENCY}: 1x vs 10x")
        axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.report <timestamp>-1x.json [<timestamp>-10x.json]``: latest.json, the chart and
    the tables again from recorded results (after a change to the report, without a new run)."""
    import sys

    paths = [Path(arg) for arg in (argv if argv is not None else sys.argv[1:])]
    results = {}
    for path in paths:
        result = json.loads(path.read_text())
        result["ratios_c8"] = ratios(result)
        write_json(path, result)
        results[result["scale"]] = result
        print(table(result))
    command = next(iter(results.values()))["command"]
    results_dir = paths[0].parent
    write_json(
        results_dir / "latest.json",
        {"command": command, "scales": results, "latency_10x_over_1x_c8": growth(results)},
    )
    print(summary(results))
    chart(results, results_dir / "latest.png")


if __name__ == "__main__":
    main()
