"""Reading the playground page: the URLs it references and its inline scripts."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import budgraph.playground

STATIC = Path(budgraph.playground.__file__).resolve().parent / "static"


@dataclass
class PageParts:
    urls: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attribute, url)
    inline_scripts: list[str] = field(default_factory=list)
    json_blocks: list[str] = field(default_factory=list)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts = PageParts()
        self._script: str | None = None  # the type of the script being read, "" for JavaScript

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = values.get(name)
            if value is not None:
                self.parts.urls.append((tag, name, value))
        if tag == "script" and values.get("src") is None:
            self._script = values.get("type") or ""

    def handle_data(self, data: str) -> None:
        if self._script == "application/json":
            self.parts.json_blocks.append(data)
        elif self._script is not None:
            self.parts.inline_scripts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def parse_page(html: str) -> PageParts:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.parts


def asset_urls(html: str) -> list[str]:
    """The URLs of the scripts and stylesheets the page loads (not the inline ``data:`` favicon)."""
    return [
        url
        for tag, _, url in parse_page(html).urls
        if tag in {"script", "link"} and not url.startswith("data:")
    ]


def recorded_hashes() -> dict[str, str]:
    """``path -> sha256`` from the checksum block of ``static/ASSETS.md``."""
    text = (STATIC / "ASSETS.md").read_text()
    block = text.split("## SHA-256", 1)[1].split("```", 2)[1]
    hashes: dict[str, str] = {}
    for line in block.strip().splitlines():
        digest, path = line.split(maxsplit=1)
        hashes[path] = digest
    return hashes
