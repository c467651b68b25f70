"""The raw field records of a laid-out record: one per elementary item and occurrence."""

from __future__ import annotations

from indexer.formats.cobol_copybook.entries import Item
from indexer.formats.cobol_copybook.layout import Context
from indexer.formats.layout import OVERLAY
from indexer.formats.records import new_field


def _data_type(item: Item) -> str:
    pic = item.picture
    if item.kind == "FLOAT":
        return "number"
    if item.kind in ("INDEX", "FIXED-BINARY"):
        return "integer"
    if item.kind == "POINTER" or pic is None:
        return "other"
    if pic.category in ("numeric", "numeric-edited"):
        return "number" if pic.scaled or (pic.decimals or 0) > 0 else "integer"
    return "string"


def _source_type(item: Item) -> str:
    parts = []
    if item.picture is not None and item.kind not in ("FLOAT", "INDEX", "POINTER"):
        parts.append(f"PIC {item.picture.text}")
    if item.usage_word:
        parts.append(item.usage_word)
    if item.sign_note:
        parts.append(item.sign_note)
    return " ".join(parts)


def _occurs_note(item: Item) -> str:
    low, high = item.occurs or (1, 1)
    if item.depending_on:
        return (f"OCCURS {low} TO {high} TIMES DEPENDING ON {item.depending_on} "
                "(variable length; laid out at the maximum)")
    return f"OCCURS {high} TIMES"


def _add_field(item: Item, start: int, width: int, subscripts: tuple[int, ...],
               path: list[str], notes: list[str], ctx: Context) -> None:
    """Append the raw field record of one elementary item (one occurrence)."""
    name = item.name or "FILLER"
    if subscripts:
        name += "(" + ",".join(str(s) for s in subscripts) + ")"
    parts = [item.comment] if item.comment else []
    if path:
        parts.append("in group " + " > ".join(path))
    parts.extend(notes)
    if item.value is not None:
        parts.append(f"initial value {item.value}")
    pic = item.picture
    decimals = pic.decimals if pic is not None and item.kind not in ("FLOAT",) else None
    codes = [
        {"code": value, "label": condition}
        for condition, values in item.conditions
        for value in values
    ]
    record = new_field(
        len(ctx.fields) + 1,
        name,
        description="; ".join(parts) or None,
        data_type=_data_type(item),
        source_type=_source_type(item) or None,
        width=width,
        start_col=start + 1,
        end_col=start + width,
        format=pic.text if pic is not None and item.kind not in ("FLOAT",) else None,
        decimals=decimals,
        value_labels=codes,
    )
    if ctx.overlay:
        record[OVERLAY] = True  # shares its bytes with the item it redefines, on purpose
    ctx.fields.append(record)


def emit(item: Item, start: int, subscripts: tuple[int, ...], path: list[str],
         notes: list[str], ctx: Context) -> None:
    """Make the fields of ``item`` placed at byte ``start`` (0-based) of the record."""
    overlaid = bool(item.redefines) and item.level > 1
    ctx.overlay += overlaid
    try:
        _emit(item, start, subscripts, path, notes, ctx)
    finally:
        ctx.overlay -= overlaid


def _emit(item: Item, start: int, subscripts: tuple[int, ...], path: list[str],
          notes: list[str], ctx: Context) -> None:
    notes = list(notes)
    if item.redefines:
        notes.append(f"redefines {item.redefines}")
    table = item.occurs is not None and item.level != 1
    count = item.occurs[1] if item.occurs is not None and table else 1
    if table and (item.depending_on or not item.expand):
        notes.append(_occurs_note(item))
    if not item.children:
        if item.name is None:
            if not item.redefines:
                ctx.filler.append((start + 1, start + item.size * count))
            return
        if table and item.expand:
            for index in range(count):
                _add_field(item, start + index * item.size, item.size,
                           (*subscripts, index + 1), path, notes, ctx)
        elif table:
            note = f"{item.size} bytes each; the occurrences are not listed one by one"
            _add_field(item, start, item.size * count, subscripts, path, [*notes, note], ctx)
        else:
            _add_field(item, start, item.size, subscripts, path, notes, ctx)
        return
    if item.conditions:
        ctx.warnings.append(
            f"line {item.line}: conditions {', '.join(c for c, _ in item.conditions)} on group "
            f"{item.label} are not kept (value labels belong to elementary items)"
        )
    if item.level > 1 and item.name:
        path = [*path, item.name + (f" ({item.comment})" if item.comment else "")]
    repeats = count if item.expand else 1
    if table and not item.expand:
        notes.append(
            f"occurrence 1 of {count} of {item.label} ({item.size} bytes each, to column "
            f"{start + item.size * count}); the others are not listed"
        )
        if count > 1:
            ctx.unlisted.append((start + item.size + 1, start + item.size * count))
    for index in range(repeats):
        where = (*subscripts, index + 1) if table else subscripts
        for child in item.children:
            emit(child, start + index * item.size + child.offset, where, path, notes, ctx)
