"""The analytics tables (raw rows and the daily rollup) and the statements both backends run."""

from __future__ import annotations

DDL = (
    ("CREATE TABLE IF NOT EXISTS vibeshelf_analytics_served (request_id TEXT PRIMARY KEY, "
     "surface TEXT NOT NULL, version TEXT NOT NULL, results INTEGER NOT NULL, "
     "latency_ms DOUBLE PRECISION NOT NULL, ts TEXT NOT NULL)"),
    ("CREATE TABLE IF NOT EXISTS vibeshelf_analytics_items (request_id TEXT NOT NULL, "
     "position INTEGER NOT NULL, book_id TEXT NOT NULL, PRIMARY KEY (request_id, position))"),
    ("CREATE TABLE IF NOT EXISTS vibeshelf_analytics_feedback (request_id TEXT NOT NULL, "
     "position INTEGER NOT NULL, event TEXT NOT NULL, value DOUBLE PRECISION, surface TEXT NOT NULL, "
     "version TEXT NOT NULL, served_day TEXT NOT NULL, ts TEXT NOT NULL, "
     "PRIMARY KEY (request_id, position, event))"),
    # Per day a list was served, surface, version and position (0: the list as a whole): lists
    # with a result there, and those clicked there (at position 0: lists with any click).
    ("CREATE TABLE IF NOT EXISTS vibeshelf_analytics_daily (day TEXT NOT NULL, surface TEXT NOT NULL, "
     "version TEXT NOT NULL, position INTEGER NOT NULL, served BIGINT NOT NULL, clicked BIGINT NOT NULL, "
     "ctr DOUBLE PRECISION, PRIMARY KEY (day, surface, version, position))"),
    ("CREATE TABLE IF NOT EXISTS vibeshelf_analytics_daily_events (day TEXT NOT NULL, "
     "surface TEXT NOT NULL, version TEXT NOT NULL, event TEXT NOT NULL, n BIGINT NOT NULL, "
     "PRIMARY KEY (day, surface, version, event))"),
)
INSERT_SERVED = (
    "INSERT INTO vibeshelf_analytics_served VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
INSERT_ITEM = "INSERT INTO vibeshelf_analytics_items VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
INSERT_FEEDBACK = (
    "INSERT INTO vibeshelf_analytics_feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
CLICKS_OF = (
    "SELECT COUNT(*) FROM vibeshelf_analytics_feedback WHERE request_id = ? AND event = 'click'"
)
ADD_DAILY = (
    "INSERT INTO vibeshelf_analytics_daily AS d VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (day, surface, version, position) DO UPDATE SET "
    "served = d.served + excluded.served, clicked = d.clicked + excluded.clicked, "
    "ctr = CAST(d.clicked + excluded.clicked AS DOUBLE PRECISION) / NULLIF(d.served + excluded.served, 0)"
)
ADD_EVENTS = (
    "INSERT INTO vibeshelf_analytics_daily_events AS d VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (day, surface, version, event) DO UPDATE SET n = d.n + excluded.n"
)
# Retention: raw rows of lists served before a day go, the feedback on them with them; the
# rollup stays. Timestamps are ISO 8601 text, so a day compares as a prefix.
PRUNE = (
    ("DELETE FROM vibeshelf_analytics_items WHERE request_id IN "
     "(SELECT request_id FROM vibeshelf_analytics_served WHERE ts < ?)"),
    "DELETE FROM vibeshelf_analytics_served WHERE ts < ?",
    "DELETE FROM vibeshelf_analytics_feedback WHERE served_day < ?",
)
# Readers of the rollup: position 0 is the list as a whole.
LISTS = (
    "SELECT version, day, SUM(served), SUM(clicked) FROM vibeshelf_analytics_daily "
    "WHERE surface = ? AND position = 0 GROUP BY version, day ORDER BY day"
)
EVENTS = (
    "SELECT version, event, SUM(n) FROM vibeshelf_analytics_daily_events WHERE surface = ? "
    "GROUP BY version, event"
)
