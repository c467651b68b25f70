"""The catalog's index on Elasticsearch: its mappings and each document's source.

Text fields hold the tokens :mod:`catalog.text` already analysed, indexed with the
``whitespace`` analyzer; keywords serve filters and facets; the vector is an int8 HNSW
``dense_vector`` (searched, never read back: ``vector_b64`` is).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from catalog.embeddings import DIMENSIONS
from catalog.search.documents import DOCUMENTS_FORMAT, LEXICAL_COLUMNS, SearchDocument
from catalog.search.query import FACETS
from catalog.search.ranking import sort_key


def mappings() -> dict[str, Any]:
    """Index mappings: pre-analysed text, keywords for filters and facets, the vectors."""
    properties: dict[str, Any] = {
        column: {"type": "text", "analyzer": "whitespace"} for column in LEXICAL_COLUMNS
    }
    properties.update({attr: {"type": "keyword"} for attr in FACETS})
    properties.update(
        {
            "doc_id": {"type": "keyword"},
            "dataset_id": {"type": "long"},
            "field_id": {"type": "long"},
            "sort_key": {"type": "keyword"},
            "words": {"type": "keyword", "index": False},
            "payload": {"type": "object", "enabled": False},
            "vector_b64": {"type": "binary"},
            "vector": {
                "type": "dense_vector",
                "dims": DIMENSIONS,
                "index": True,
                "similarity": "dot_product",
                # Set explicitly: the default for 384 dimensions changed between versions.
                "index_options": {"type": "int8_hnsw"},
            },
        }
    )
    # The vector is searched, never read back from _source (``vector_b64`` is, compactly):
    # leaving it out keeps every fetched hit small.
    return {"dynamic": "strict", "_source": {"excludes": ["vector"]}, "properties": properties,
            "_meta": {"documents": DOCUMENTS_FORMAT}}


def document_source(doc: SearchDocument, vector: np.ndarray) -> dict[str, Any]:
    """What Elasticsearch stores for one search document and its vector."""
    vec = np.asarray(vector, dtype=np.float32)
    body: dict[str, Any] = {column: doc.lexical.get(column, "") for column in LEXICAL_COLUMNS}
    body.update(doc.attributes())
    body.update(
        doc_id=doc.doc_id,
        dataset_id=doc.dataset_id,
        field_id=doc.field_id,
        sort_key=sort_key(doc.kind, doc.payload),
        words=doc.words,
        payload=doc.payload,
        vector=vec.tolist(),
        vector_b64=base64.b64encode(vec.tobytes()).decode("ascii"),
    )
    return body
