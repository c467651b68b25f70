"""The raw dataset and field records every format module and harvester builds.

:func:`new_dataset` and :func:`new_field` are the one place that knows the keys of a raw
record and their defaults (the contract is in :mod:`indexer.formats.base`); a parser passes
what it read and leaves the rest to them.
"""

from __future__ import annotations

from typing import Any

from indexer.formats.layout import record_length


def new_dataset(identifier: str, title: str | None = None, **values: Any) -> dict[str, Any]:
    """A raw dataset record with every key present; ``values`` override the defaults.

    The title defaults to the identifier. A layout (``layout=True``) whose fields have end
    columns gets its record length in ``extra["record_length"]`` unless ``extra`` has one.
    """
    record: dict[str, Any] = {
        "identifier": identifier,
        "title": title or identifier,
        "description": None,
        "agency": None,
        "agency_abbreviation": None,
        "keywords": [],
        "update_frequency": None,
        "last_modified": None,
        "access_level": "public",
        "landing_page": None,
        "layout": False,
        "extra": {},
        "fields": [],
    }
    record.update(values)
    if record["layout"] and (length := record_length(record["fields"])) is not None:
        record["extra"].setdefault("record_length", length)
    return record


def new_field(position: int, name: str, **values: Any) -> dict[str, Any]:
    """A raw field record with every key present (absent values None / []); ``values`` override."""
    field: dict[str, Any] = {
        "position": position,
        "name": name,
        "label": None,
        "description": None,
        "data_type": None,
        "source_type": None,
        "width": None,
        "start_col": None,
        "end_col": None,
        "format": None,
        "decimals": None,
        "value_labels": [],
        "sensitivity": "public",
    }
    field.update(values)
    return field


def value_label(code: Any, label: Any) -> dict[str, str]:
    """One value label with the code as a string, as the source spells it."""
    return {"code": str(code), "label": "" if label is None else str(label)}
