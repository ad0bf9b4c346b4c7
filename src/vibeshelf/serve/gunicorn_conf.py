"""gunicorn's settings for `vibeshelf serve --workers N`: say where once a worker answers."""

from __future__ import annotations

from gunicorn.arbiter import Arbiter

from vibeshelf.serve.announce import announce_in_process


def when_ready(server: Arbiter) -> None:
    """In the master, once it listens (before its workers start): announce when one answers."""
    host, port = server.cfg.address[0]
    announce_in_process(host, port)
