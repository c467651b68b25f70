"""Similar fields: the same concept in other datasets, with the dataset's context taken out.

A field's embed text ends with where it lives ("In Inpatient stay CORE file, Agency for
Healthcare Research and Quality."), which helps a query find it: the query names a topic
the dataset is about. Between two fields that context is mostly noise: "Applicants total"
came out nearest to "Total men" and "Grand total" of other NCES files, all "In …, National
Center for Education Statistics.", while the same concept elsewhere (``LOS`` "Length of
stay (cleaned)" and ``LENGTH_OF_STAY``) sits in another agency's words.

So similar-field search compares *shifted* vectors, ``unit(v − λ·c)``, where ``c`` is the
vector of the field's dataset's context sentence alone
(:func:`catalog.search.documents.context_text`), embedded once per dataset. Both engines
find candidates nearest to the shifted source vector among the indexed (unshifted) field
vectors, :data:`CANDIDATES` of them; here each candidate is shifted by its own dataset's
context and the list resorted. ``benchmarks/similarity_scale.py`` measured it on the
corpus: of the fields the dev queries judge the same concept in other datasets, recall@10
among a field's similar fields rose from 0.495 to 0.719 by exact scan (e5-small-v2,
λ = 0.7), 0.713 through these 200 candidates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from catalog.search.query import Hit

CONTEXT_SHIFT = 0.7  # λ: how much of the context vector is taken out (similarity_scale.py)
CANDIDATES = 200  # fields the engine proposes before they are shifted and resorted


def shifted(vector: np.ndarray, context: np.ndarray | None,
            shift: float = CONTEXT_SHIFT) -> np.ndarray:
    """``unit(vector − shift · context)``; the vector itself (as unit) without a context."""
    out = np.asarray(vector, dtype=np.float32)
    if context is not None:
        out = out - np.float32(shift) * np.asarray(context, dtype=np.float32)
    norm = float(np.linalg.norm(out))
    return out / norm if norm > 0 else out


def rescore(source: np.ndarray, candidates: Sequence[tuple[Hit, np.ndarray]],
            contexts: dict[int, np.ndarray], shift: float = CONTEXT_SHIFT
            ) -> list[tuple[Hit, float]]:
    """Candidates with the cosine of their shifted vectors to the (shifted) ``source``,
    best first; ties keep the engine's order."""
    scored = []
    for i, (hit, vector) in enumerate(candidates):
        context = contexts.get(int(hit.payload.get("dataset_id") or 0))
        scored.append((i, hit, float(shifted(vector, context, shift) @ source)))
    scored.sort(key=lambda item: (-item[2], item[0]))
    return [(hit, score) for _, hit, score in scored]
