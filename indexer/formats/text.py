"""Cleaning the text parsers read: whitespace, comment decoration, shouted capitals."""

from __future__ import annotations

import re


def tidy(text: str | None) -> str | None:
    """Collapse runs of whitespace; None for empty text."""
    if text is None:
        return None
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text or None


def clean_comment(text: str) -> str:
    """Strip comment decoration (``*``, ``/``, ``|``, ``-``) and collapse whitespace."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip().strip("*/|-=#").strip()
        if line:
            lines.append(line)
    return re.sub(r"\s+", " ", " ".join(lines)).strip()


def sentence_case(text: str) -> str:
    """Turn SHOUTED text into sentence case; leave mixed-case text alone."""
    if text.isupper():
        return text[:1].upper() + text[1:].lower()
    return text
