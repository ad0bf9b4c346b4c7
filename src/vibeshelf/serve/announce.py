"""Print `serving on http://HOST:PORT` once the port answers an HTTP request (start-up done)."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time

POLL_SECONDS = 0.1
PROBE_TIMEOUT_SECONDS = 2.0
LOOPBACK_FOR = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def announce_in_thread(host: str, port: int) -> threading.Thread:
    """Announce from a daemon thread of this process (uvicorn's: it never forks)."""
    thread = threading.Thread(target=announce, args=(host, port), name="announce", daemon=True)
    thread.start()
    return thread


def announce_in_process(host: str, port: int) -> subprocess.Popen[bytes]:
    """Announce from a new process that ends with this one: gunicorn's master forks its workers,
    and a fork while a thread of the master holds a lock (an import, stdout) deadlocks the worker."""
    return subprocess.Popen(
        [sys.executable, "-m", "vibeshelf.serve.announce", host, str(port), str(os.getpid())]
    )


def announce(host: str, port: int, parent: int | None = None) -> None:
    """Poll until the port answers, then print where it serves; give up when `parent` is gone."""
    probe = LOOPBACK_FOR.get(host, host)
    while not _answers(probe, port):
        if parent is not None and os.getppid() != parent:
            return
        time.sleep(POLL_SECONDS)
    print(f"serving on http://{f'[{host}]' if ':' in host else host}:{port}", flush=True)


def _answers(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=PROBE_TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/health")
        connection.getresponse()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True


if __name__ == "__main__":
    announce(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
