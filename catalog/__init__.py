"""The catalog domain: models, schemas, store, normalisation, embeddings and search."""

__version__ = "0.1.0"
