"""The feedback tables (DDL) and the queries both backends run, with `?` placeholders."""

from __future__ import annotations

DDL = (
    ("CREATE TABLE IF NOT EXISTS vibeshelf_served (request_id TEXT PRIMARY KEY, surface TEXT NOT NULL, "
    "version TEXT NOT NULL, results INTEGER NOT NULL, ts TEXT NOT NULL)"),
    ("CREATE TABLE IF NOT EXISTS vibeshelf_feedback (request_id TEXT NOT NULL, position INTEGER NOT NULL, "
    "event TEXT NOT NULL, value DOUBLE PRECISION, ts TEXT NOT NULL, PRIMARY KEY (request_id, position, event))"),
    "CREATE INDEX IF NOT EXISTS vibeshelf_served_by_version ON vibeshelf_served (surface, version)",
    "CREATE INDEX IF NOT EXISTS vibeshelf_served_by_ts ON vibeshelf_served (ts)",
    ("CREATE TABLE IF NOT EXISTS vibeshelf_served_session (request_id TEXT PRIMARY KEY, "
     "session TEXT NOT NULL)"),
    "CREATE INDEX IF NOT EXISTS vibeshelf_served_by_session ON vibeshelf_served_session (session)",
)
# Retention: served requests older than a cutoff go, and the feedback that names them.
NTH_NEWEST = "SELECT ts FROM vibeshelf_served ORDER BY ts DESC LIMIT 1 OFFSET ?"
PRUNE = (
    ("DELETE FROM vibeshelf_feedback WHERE request_id IN "
     "(SELECT request_id FROM vibeshelf_served WHERE ts < ?)"),
    ("DELETE FROM vibeshelf_served_session WHERE request_id IN "
     "(SELECT request_id FROM vibeshelf_served WHERE ts < ?)"),
    "DELETE FROM vibeshelf_served WHERE ts < ?",
)
SERVED = (
    "SELECT s.surface, s.version, s.results, x.session, s.ts FROM vibeshelf_served s "
    "LEFT JOIN vibeshelf_served_session x ON x.request_id = s.request_id WHERE s.request_id = ?"
)
SESSION_EVENTS = (
    "SELECT COUNT(*) FROM vibeshelf_feedback f JOIN vibeshelf_served_session x "
    "ON x.request_id = f.request_id WHERE x.session = ? AND f.ts >= ?"
)
