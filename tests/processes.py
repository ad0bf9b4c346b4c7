"""Stopping the servers tests start: terminate, wait, kill when it lingers."""

from __future__ import annotations

import subprocess


def stop_process(proc: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Terminate `proc` and wait for it; kill it if it is still there after `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
