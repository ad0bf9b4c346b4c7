"""Catalog: raw book files cleaned and joined with DuckDB into one books table."""
