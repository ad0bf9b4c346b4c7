"""Interaction and event storage behind one contract: SQLite by default, PostgreSQL by URL."""
