"""PostGraphile 4 over the benchmark's database: installed with npm into bench/.postgraphile/ (not
committed), configured here, started as one Node process.

Plain PostGraphile: its generated `allModels`, `engineBySlug`, foreign-key relations and
conditions, plus two things budgraph's scenarios cannot be asked without: the connection filter
plugin (with relation filters) for "versions serving this architecture" and "changes after a
version", and a virtual foreign key from `model.architecture` to `model_architecture.class_name`
(a smart tag: the column names the class, as budgraph reads it, but has no constraint).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent / ".postgraphile"
BINARY = HERE / "node_modules" / ".bin" / "postgraphile"
PACKAGES = ["postgraphile@4", "postgraphile-plugin-connection-filter@2"]
TAGS = {
    "version": 1,
    "config": {
        "class": {
            "model": {"tags": {"foreignKey": "(architecture) references model_architecture (class_name)"}}
        }
    },
}
# Read by PostGraphile from its working directory; the CLI has no flag for build options.
RC = """module.exports = {
  options: {
    graphileBuildOptions: { connectionFilterRelations: true, connectionFilterAllowNullInput: false },
  },
};
"""


def ensure_installed(log: Callable[[str], object] = print) -> None:
    """npm install into bench/.postgraphile/ unless it is there (a few seconds from the registry)."""
    if not BINARY.exists():
        if shutil.which("npm") is None:
            raise SystemExit("PostGraphile needs node and npm (node 20 works)")
        HERE.mkdir(exist_ok=True)
        log(f"  installing {' '.join(PACKAGES)} into {HERE}")
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(HERE), *PACKAGES],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    (HERE / "postgraphile.tags.json5").write_text(json.dumps(TAGS, indent=2))
    (HERE / ".postgraphilerc.js").write_text(RC)


def command(dsn: str, port: int, pool_size: int) -> list[str]:
    return [
        str(BINARY),
        "--connection",
        dsn,
        "--schema",
        "public",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--simple-collections",
        "both",
        "--disable-default-mutations",
        "--append-plugins",
        "postgraphile-plugin-connection-filter",
        "--dynamic-json",
        "--disable-query-log",
        "--max-pool-size",
        str(pool_size),
    ]
