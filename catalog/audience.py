"""Who is asking, as the catalog sees it: which datasets' metadata they may see.

An :class:`Audience` is the access levels someone may see everywhere, plus the agencies
whose restricted datasets they may also see (the agencies they steward). Every read of the
catalog — the store's getters and counts, both search engines inside both rankings, facets,
similar fields — takes one and applies :meth:`Audience.allows` (in SQL:
:meth:`Audience.clause`), so a dataset outside it is never read, counted or ranked.

The web decides *which* audience a request has (``web/access.py``, from the signed-in user);
this module only says what an audience admits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, or_, true

from catalog.vocabulary import PUBLIC_ONLY, AccessLevel, values

ALL_LEVELS: tuple[str, ...] = values(AccessLevel)


@dataclass(frozen=True)
class Audience:
    """Access levels seen everywhere, and agencies (slugs) whose restricted datasets are seen."""

    levels: tuple[str, ...] = PUBLIC_ONLY
    agencies: tuple[str, ...] = ()

    @classmethod
    def of(cls, value: Audience | tuple[str, ...] | list[str] | None) -> Audience:
        """An audience from an audience or a tuple of access levels (None: the public)."""
        if isinstance(value, Audience):
            return value
        if value is None:
            return cls()
        return cls(levels=tuple(value))

    @property
    def sees_everything(self) -> bool:
        """Whether every access level is visible (no filter is needed)."""
        return set(ALL_LEVELS) <= set(self.levels)

    @property
    def sees_nothing(self) -> bool:
        """Whether no dataset at all is visible (no level, no stewarded agency)."""
        return not (self.levels or self.restricted_agencies)

    @property
    def restricted_agencies(self) -> tuple[str, ...]:
        """Agencies whose restricted datasets are visible beyond :attr:`levels`."""
        if AccessLevel.RESTRICTED in self.levels:
            return ()
        return self.agencies

    def allows(self, access_level: str, agency: str | None) -> bool:
        """Whether a dataset of this level and agency (slug) is visible."""
        if access_level in self.levels:
            return True
        return access_level == AccessLevel.RESTRICTED and agency in self.restricted_agencies

    def levels_for(self, agency: str | None) -> tuple[str, ...]:
        """The access levels visible for datasets of one agency."""
        if agency in self.restricted_agencies:
            return tuple(dict.fromkeys([*self.levels, AccessLevel.RESTRICTED.value]))
        return self.levels

    def clause(self, access_column: Any, agency_column: Any, agencies: Any = None) -> Any:
        """The SQL condition of :meth:`allows` over a dataset's level and agency columns.

        ``agency_column`` holds agency slugs, or anything ``agencies`` (by default the
        slugs of :attr:`restricted_agencies`; a subquery of agency ids, say) matches.
        """
        if self.sees_everything:
            return true()
        parts = [access_column.in_(self.levels)] if self.levels else []
        if self.restricted_agencies:
            wanted = self.restricted_agencies if agencies is None else agencies
            parts.append(and_(access_column == AccessLevel.RESTRICTED.value,
                              agency_column.in_(wanted)))
        return or_(*parts) if parts else false()

    def key(self) -> str:
        """A stable text for caches keyed by audience."""
        return f"{','.join(sorted(self.levels))}|{','.join(sorted(self.agencies))}"


AudienceLike = Audience | tuple[str, ...]
PUBLIC = Audience()
EVERYONE = Audience(levels=ALL_LEVELS)
