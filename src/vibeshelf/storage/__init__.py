"""Storage plumbing every feature may use: atomic builds and writes, DuckDB, databases, errors."""
