"""The indexer: gets metadata in (formats, loading pipeline, jobs)."""
