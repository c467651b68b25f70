"""Highlighted snippets computed from the query's stems, the same for every engine."""

from __future__ import annotations

import re
from html import escape

from markupsafe import Markup

from catalog.text import stem

_TOKEN = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+")


def highlight(text: str | None, terms: set[str], *, width: int = 240) -> Markup | None:
    """An HTML-safe snippet of ``text`` around the first matching word, matches in ``<mark>``."""
    if not text or not terms:
        return None
    text = " ".join(text.split())
    matches = [m for m in _TOKEN.finditer(text) if stem(m.group().lower()) in terms]
    if not matches:
        return None
    start = max(0, matches[0].start() - width // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < matches[0].start() else start
    end = min(len(text), start + width)
    parts: list[str] = ["…" if start else ""]
    cursor = start
    for m in matches:
        if m.start() < start or m.end() > end:
            continue
        parts.append(escape(text[cursor : m.start()]))
        parts.append(f"<mark>{escape(m.group())}</mark>")
        cursor = m.end()
    parts.append(escape(text[cursor:end]))
    if end < len(text):
        parts.append("…")
    return Markup("".join(parts))
