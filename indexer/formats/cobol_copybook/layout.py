"""Laying a record out: items into trees by level number, then offsets and sizes in bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from indexer.formats.base import FormatError
from indexer.formats.cobol_copybook.entries import USAGES, Item

#: Most fields one OCCURS clause may expand into before it is kept as a single field.
OCCURS_FIELD_CAP = 1000


@dataclass
class Record:
    """One record description: an 01 item (or the implied root of a fragment)."""

    root: Item
    comments: list[str] = field(default_factory=list)
    implied: bool = False


@dataclass
class Context:
    """What the layout and field passes share: warnings and the fields made so far."""

    warnings: list[str]
    fields: list[dict[str, Any]] = field(default_factory=list)
    variable: list[Item] = field(default_factory=list)
    usages: set[str] = field(default_factory=set)
    filler: list[tuple[int, int]] = field(default_factory=list)  # 1-based FILLER columns
    unlisted: list[tuple[int, int]] = field(default_factory=list)  # occurrences not listed
    overlay: int = 0  # how many REDEFINES (below the 01 level) enclose the item being emitted


def build_records(items: list[Item], warnings: list[str]) -> list[Record]:
    """Arrange items into record trees by level number; attach 88s to their items."""
    records: list[Record] = []
    stack: list[Item] = []
    last: Item | None = None
    for item in items:
        if item.level == 88:
            if last is None:
                raise FormatError(
                    f"line {item.line}: condition {item.label} (level 88) follows no data item",
                    line=item.line,
                )
            last.conditions.append((item.label, item.values))
            continue
        if item.level == 66:
            warnings.append(f"line {item.line}: 66-level {item.label} RENAMES {item.renames} "
                            "is an alternative name, not kept as a field")
            last = None
            continue
        if item.level == 77:
            warnings.append(f"line {item.line}: 77-level item {item.label} is not part of a "
                            "record; skipped")
            last = item
            continue
        last = item
        if item.level == 1:
            records.append(Record(root=item, comments=[]))
            stack = [item]
            continue
        if not stack:
            root = Item(level=0, name=None, line=item.line)
            records.append(Record(root=root, implied=True))
            stack = [root]
        while stack[-1].level >= item.level:
            stack.pop()
        parent = stack[-1]
        if parent.picture is not None:
            raise FormatError(
                f"line {item.line}: {item.label} (level {item.level:02d}) is subordinate to "
                f"{parent.label}, which has a PIC clause; expected a group item (no PIC) "
                "above it",
                line=item.line,
            )
        parent.children.append(item)
        stack.append(item)
    return records


def _elementary_size(item: Item, kind: str, fixed: int | None, sign_separate: bool) -> int:
    """Bytes one occurrence of an elementary item takes."""
    pic = item.picture
    if fixed is not None:
        return fixed
    if pic is None:
        raise FormatError(
            f"line {item.line}: {item.label} has no PIC clause and no subordinate items; "
            "expected PIC (or USAGE COMP-1, COMP-2, INDEX or POINTER)",
            line=item.line,
        )
    if kind in ("BINARY", "PACKED", "UNSIGNED-PACKED") and pic.category != "numeric":
        raise FormatError(
            f"line {item.line}: {item.label}: USAGE {item.usage_word} needs a numeric PIC "
            f"(9, S, V, P); found {pic.text!r}",
            line=item.line,
        )
    if kind == "BINARY":
        if pic.digits > 18:
            raise FormatError(
                f"line {item.line}: {item.label}: a binary item holds at most 18 digits; "
                f"PIC {pic.text} has {pic.digits}",
                line=item.line,
            )
        return 2 if pic.digits <= 4 else 4 if pic.digits <= 9 else 8
    if kind == "PACKED":
        return pic.digits // 2 + 1
    if kind == "UNSIGNED-PACKED":
        return (pic.digits + 1) // 2
    per_char = 2 if kind in ("NATIONAL", "DBCS") or pic.category in ("national", "dbcs") else 1
    extra = 1 if sign_separate and pic.signed else 0
    return (pic.chars + extra) * per_char


def layout(item: Item, usage: str | None, sign: tuple[str, bool] | None, ctx: Context) -> None:
    """Work out offsets and sizes below ``item`` (usage and SIGN inherited from groups)."""
    own_usage = item.usage or usage
    item.usage_word = own_usage
    kind, fixed = USAGES[own_usage] if own_usage else ("DISPLAY", None)
    item.kind = kind
    own_sign = (item.sign, item.sign_separate) if item.sign else sign
    if item.sync:
        ctx.warnings.append(f"line {item.line}: {item.label} is SYNCHRONIZED; slack bytes the "
                            "compiler may add for alignment are not counted")
    if item.depending_on:
        ctx.variable.append(item)
    if not item.children:
        item.size = _elementary_size(item, kind, fixed, bool(own_sign and own_sign[1]))
        item.min_size = item.size
        if own_sign and item.picture is not None and item.picture.signed:
            item.sign_note = f"SIGN {own_sign[0]}" + (" SEPARATE" if own_sign[1] else "")
        if kind != "DISPLAY" and own_usage:
            ctx.usages.add(own_usage)
        item.fields_one = 0 if item.name is None else 1
    else:
        cursor = cursor_min = 0
        seen: dict[str, Item] = {}
        for child in item.children:
            layout(child, own_usage, own_sign, ctx)
            span, min_span = _span(child)
            if child.redefines:
                target = seen.get(child.redefines.upper())
                if target is None:
                    raise FormatError(
                        f"line {child.line}: {child.label} REDEFINES {child.redefines}, but no "
                        f"earlier item of that name at level {child.level:02d} in "
                        f"{item.label if item.level else 'the record'}",
                        line=child.line,
                    )
                child.offset, child.min_offset = target.offset, target.min_offset
                if span > _span(target)[0]:
                    ctx.warnings.append(
                        f"line {child.line}: {child.label} ({span} bytes) is longer than "
                        f"{target.label} ({_span(target)[0]} bytes), which it redefines"
                    )
            else:
                child.offset, child.min_offset = cursor, cursor_min
            cursor = max(cursor, child.offset + span)
            cursor_min = max(cursor_min, child.min_offset + min_span)
            if child.name:
                seen[child.name.upper()] = child
        item.size, item.min_size = cursor, cursor_min
        item.fields_one = sum(child.fields_total for child in item.children)
    _count_fields(item, ctx)


def _span(item: Item) -> tuple[int, int]:
    """Bytes an item takes with its OCCURS: at the maximum and at the minimum."""
    if item.occurs is None:
        return item.size, item.min_size
    return item.size * item.occurs[1], item.min_size * item.occurs[0]


def _count_fields(item: Item, ctx: Context) -> None:
    """How many fields the item makes; decide whether its OCCURS is expanded."""
    if item.occurs is None or item.level == 1:
        item.fields_total = item.fields_one
        return
    count = item.occurs[1]
    if count * item.fields_one > OCCURS_FIELD_CAP:
        item.expand = False
        item.fields_total = item.fields_one
        kept = "one field spanning the table" if not item.children else "its first occurrence"
        ctx.warnings.append(
            f"line {item.line}: OCCURS {count} TIMES on {item.label} would make "
            f"{count * item.fields_one} fields (more than {OCCURS_FIELD_CAP}); kept as {kept}"
        )
    else:
        item.fields_total = count * item.fields_one
