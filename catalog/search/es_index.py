"""The catalog's index on Elasticsearch: its mappings and each document's source.

Text fields hold the tokens :mod:`catalog.text` already analysed, indexed with the
``whitespace`` analyzer; keywords serve filters and facets; the vector is an int8 HNSW
``dense_vector`` (searched, never read back: ``vector_b64`` is).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import orjson

from catalog.embeddings import DIMENSIONS
from catalog.search.documents import DOCUMENTS_FORMAT, LEXICAL_COLUMNS, SearchDocument
from catalog.search.query import FACETS
from catalog.search.ranking import sort_key
from catalog.search.results import REF_KEYS

SOURCE_EXCLUDES = ("vector", "vector_b64")


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
            # What a hit shows of a document it names (results.REF_KEYS) as JSON in doc
            # values: a search reads 100-odd of them, and from _source each would cost a
            # stored-fields block decompressed (6.6 ms for 130 against 1.7 at 100k).
            "ref": {"type": "keyword", "index": False},
            "payload": {"type": "object", "enabled": False},
            # Stored apart from _source (see below), read back with ``stored_fields``.
            "vector_b64": {"type": "binary", "store": True},
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
    # Neither vector is in _source: the dense one is searched and never read back, and
    # ``vector_b64`` (2 KB, 58% of a document's source) is a stored field of its own, read
    # by similar-field search only. A search's hits then load a third of the bytes.
    return {"dynamic": "strict", "_source": {"excludes": list(SOURCE_EXCLUDES)},
            "properties": properties,
            "_meta": {"documents": DOCUMENTS_FORMAT}}


REF_CHARS = 1000  # of each text in ``ref``: 7 of them stay far below a doc value's 32 KB


def _ref(payload: dict[str, Any]) -> str:
    """A document's ``ref``: its :data:`~catalog.search.results.REF_KEYS` as JSON."""
    values = {key: payload.get(key) for key in REF_KEYS}
    return orjson.dumps({key: value[:REF_CHARS] if isinstance(value, str) else value
                         for key, value in values.items()}).decode()


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
        ref=_ref(doc.payload),
        payload=doc.payload,
        vector=vec.tolist(),
        vector_b64=base64.b64encode(vec.tobytes()).decode("ascii"),
    )
    return body
