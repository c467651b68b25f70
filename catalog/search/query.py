"""What a search asks for and what it returns: the contract both engines implement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.audience import Audience
from catalog.vocabulary import PUBLIC_ONLY, SearchMode

FACETS = ("kind", "agency", "data_type", "access_level", "sensitivity")


@dataclass(frozen=True)
class SearchQuery:
    """A search: the words, the filters, who asks (which access levels they may see), a page."""

    text: str = ""
    kind: str | None = None
    agencies: tuple[str, ...] = ()
    data_types: tuple[str, ...] = ()
    access_levels: tuple[str, ...] = ()
    sensitivities: tuple[str, ...] = ()
    allowed_access: tuple[str, ...] = PUBLIC_ONLY
    # Agencies whose restricted datasets the asker also sees (those they steward).
    allowed_agencies: tuple[str, ...] = ()
    mode: str = SearchMode.HYBRID
    page: int = 1
    per_page: int = 20
    candidates: int = 200
    # Near-identical fields of one dataset become one hit ("and N more in this dataset").
    collapse: bool = True
    # The vectors' share of the fused score; None for fusion.SEMANTIC_WEIGHT (benchmarks
    # try others when they choose it by cross-validation).
    fusion_weight: float | None = None

    @property
    def uses_lexical(self) -> bool:
        """Whether the mode ranks by BM25 (hybrid or lexical)."""
        return self.mode != SearchMode.SEMANTIC

    @property
    def uses_vectors(self) -> bool:
        """Whether the mode ranks by embeddings (hybrid or semantic)."""
        return self.mode != SearchMode.LEXICAL

    @property
    def audience(self) -> Audience:
        """Who asks: the engines admit only documents this audience may see."""
        return Audience(levels=self.allowed_access, agencies=self.allowed_agencies)

    def filters(self) -> dict[str, tuple[str, ...]]:
        """The asker's own filters as ``{attribute: allowed values}`` (the audience aside)."""
        out: dict[str, tuple[str, ...]] = {}
        if self.access_levels:
            out["access_level"] = self.access_levels
        if self.kind:
            out["kind"] = (self.kind,)
        if self.agencies:
            out["agency"] = self.agencies
        if self.data_types:
            out["data_type"] = self.data_types
        if self.sensitivities:
            out["sensitivity"] = self.sensitivities
        return out


@dataclass
class Hit:
    """One result: a dataset or a field, with its fused score and where each ranking put it."""

    doc_id: str
    kind: str
    score: float
    payload: dict[str, Any]
    lexical_rank: int | None = None
    semantic_rank: int | None = None
    highlight: str | None = None
    # How many near-identical fields of the same dataset this hit stands for, and the
    # first few of them (field_id, field, title), best first.
    more_in_dataset: int = 0
    more_fields: list[dict[str, Any]] = field(default_factory=list)
    # For a dataset hit: its best-ranked fields that matched too (field_id, field, title).
    matched_fields: list[dict[str, Any]] = field(default_factory=list)
    # Other datasets holding an exact copy of this hit (the same dataset published twice):
    # the first few named, with their best copy (dataset_id, dataset, dataset_title,
    # field_id, field); how many there are in all.
    also_in: list[dict[str, Any]] = field(default_factory=list)
    also_in_count: int = 0
    # Among a field's similar fields: this one is an exact copy of it (see documents.twin_key).
    copy: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The hit as plain data: its payload with kind, score, ranks and snippet (for the API)."""
        data = dict(self.payload)
        data.update(
            kind=self.kind,
            score=round(self.score, 6),
            lexical_rank=self.lexical_rank,
            semantic_rank=self.semantic_rank,
            highlight=self.highlight,
            more_in_dataset=self.more_in_dataset,
            more_fields=self.more_fields,
            matched_fields=self.matched_fields,
            also_in=self.also_in,
            also_in_count=self.also_in_count,
            copy=self.copy,
        )
        return data


@dataclass
class SearchResult:
    """A page of hits, how many matched in all, and facet counts over all matches."""

    hits: list[Hit]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    took_ms: float = 0.0

    @property
    def pages(self) -> int:
        """Number of pages."""
        return max(1, -(-self.total // self.per_page))
