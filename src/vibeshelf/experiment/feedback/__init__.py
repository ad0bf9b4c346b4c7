"""Served requests and reader feedback, in SQLite (default) or PostgreSQL."""
