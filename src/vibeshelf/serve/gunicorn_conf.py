"""gunicorn's settings for `vibeshelf serve --workers N`: say where once a worker answers."""

from __future__ import annotations

from gunicorn.arbiter import Arbiter

from vibeshelf.serve.launch import announce_when_answering


def when_ready(server: Arbiter) -> None:
    """In the master, once it listens (before its workers start): announce when one answers."""
    host, port = server.cfg.address[0]
    announce_when_answering(host, port)
