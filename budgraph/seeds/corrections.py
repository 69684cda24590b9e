"""What the seed build changed in the upstream data, and why.

The build keeps the upstream files as they are and corrects (or rejects) what fails a sanity
check while it reads them. Every such change is recorded here and written to
``data/corrections.json``, so a reader can see each upstream value, what the seed holds instead,
and the reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

CORRECTED = "corrected"
REJECTED = "rejected"
ADDED = "added"


@dataclass(frozen=True)
class Correction:
    file: str
    record: str
    field: str
    upstream: Any
    value: Any
    action: str
    reason: str


@dataclass
class Corrections:
    entries: list[Correction] = field(default_factory=list)

    def note(
        self, file: str, record: str, name: str, upstream: Any, value: Any, action: str, reason: str
    ) -> None:
        self.entries.append(Correction(file, record, name, upstream, value, action, reason))

    def records(self) -> list[dict[str, Any]]:
        rows = [asdict(entry) for entry in self.entries]
        return sorted(rows, key=lambda r: (r["file"], r["record"], r["field"], r["action"]))
