"""Feed files written incrementally: RSS 2.0 with the ``g:`` namespace, and tab-separated text.

Items are written as they come (nothing is kept per item), into a temporary file beside the target that
replaces it only when the whole feed is complete, so a reader (or Google's fetcher) sees either the previous
feed or the new one, never half of one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from .spec import G_NAMESPACE, REPEATED

BUFFER_BYTES = 1 << 20
# Markup characters, and those XML 1.0 cannot carry at all (C0 controls but tab, LF, CR; U+FFFE/FFFF; lone
# surrogates), which are dropped. Most values have none: one scan in C, and no copy.
_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Attributes validation has already held to enumerations, numbers, prices and ISO dates: nothing to escape.
VALIDATED_SAFE = frozenset({"availability", "availability_date", "price", "sale_price", "sale_price_effective_date",
                            "condition", "gtin", "identifier_exists", "shipping_weight", "quantity",
                            "pickup_method", "pickup_sla"})
_TSV_BREAKS = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def _entity(match: re.Match) -> str:
    return _ENTITIES.get(match.group(), "")


def xml_text(value: str) -> str:
    return _SPECIAL.sub(_entity, value) if _SPECIAL.search(value) else value


class AtomicFile:
    """``with AtomicFile(path) as fh:`` writes ``path.tmp-<pid>`` and renames it over ``path`` on success."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{id(self)}")
        self.fh: TextIO | None = None

    def __enter__(self) -> TextIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.tmp, "w", encoding="utf-8", newline="\n", buffering=BUFFER_BYTES)
        return self.fh

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.fh is not None
        try:
            if exc_type is None:
                self.fh.flush()
                os.fsync(self.fh.fileno())
            self.fh.close()
            if exc_type is None:
                os.replace(self.tmp, self.path)
        finally:
            if self.tmp.exists():
                self.tmp.unlink()


class RssWriter:
    """``<rss version="2.0" xmlns:g=…><channel>…<item><g:id>…</g:id>…</item>…</channel></rss>``."""

    def __init__(self, fh: TextIO, attributes: Iterable[str]) -> None:
        self.fh = fh
        self.attributes = tuple(attributes)
        self.tags = [(a, f"<g:{a}>", f"</g:{a}>", a not in VALIDATED_SAFE, a in REPEATED) for a in self.attributes]

    def begin(self, *, title: str, link: str, description: str) -> None:
        self.fh.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<rss version="2.0" xmlns:g="{G_NAMESPACE}">\n<channel>\n'
            f"<title>{xml_text(title)}</title>\n<link>{xml_text(link)}</link>\n"
            f"<description>{xml_text(description)}</description>\n"
        )

    def write(self, item: Mapping[str, Any]) -> None:
        parts = ["<item>"]
        for name, open_tag, close_tag, needs_escape, repeated in self.tags:
            value = item.get(name)
            if not value:
                continue
            if repeated:
                parts.extend(f"{open_tag}{xml_text(one)}{close_tag}" for one in value)
            else:
                parts.append(f"{open_tag}{xml_text(value) if needs_escape else value}{close_tag}")
        parts.append("</item>\n")
        self.fh.write("".join(parts))

    def end(self) -> None:
        self.fh.write("</channel>\n</rss>\n")


class TsvWriter:
    """A header row of attribute names, then one line per item; tabs and line breaks in values become spaces.

    Repeated attributes are comma-separated with commas inside a value encoded as ``%2C`` (answer/6324370).
    """

    def __init__(self, fh: TextIO, attributes: Iterable[str]) -> None:
        self.fh = fh
        self.attributes = tuple(attributes)

    def begin(self, **_channel: str) -> None:
        self.fh.write("\t".join(self.attributes) + "\n")

    def write(self, item: Mapping[str, Any]) -> None:
        cells = []
        for name in self.attributes:
            value = item.get(name)
            if not value:
                cells.append("")
            elif name in REPEATED:
                cells.append(",".join(v.replace(",", "%2C") for v in value).translate(_TSV_BREAKS))
            else:
                cells.append(str(value).translate(_TSV_BREAKS))
        self.fh.write("\t".join(cells) + "\n")

    def end(self) -> None:
        pass
