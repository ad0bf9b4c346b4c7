"""Interactions ingest with DuckDB: each dataset's reader, one cleaning pass, linking to the catalog."""
