"""Who may see what: the one place where the web and the API decide access.

There are no user accounts yet, so every visitor is anonymous and sees public metadata
only. Restricted and internal datasets (and their fields) must never reach an anonymous
visitor: not in results, counts, facets or similar-field lists, and not by direct URL,
where they answer 404 so that their existence is not revealed.
"""

from __future__ import annotations

from catalog.search.query import PUBLIC_ONLY


def allowed_access() -> tuple[str, ...]:
    """Access levels the current visitor may see (anonymous visitors: public only)."""
    return PUBLIC_ONLY
