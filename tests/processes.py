"""Stopping the servers tests start: terminate, wait, kill when it lingers."""

from __future__ import annotations

import os
import signal
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


def stop_group(proc: subprocess.Popen[str], timeout: float = 30) -> str:
    """Terminate `proc` (started with start_new_session=True) and return all it printed; kill its
    whole process group if it lingers, so that no orphaned child keeps its output pipe open."""
    proc.terminate()
    try:
        return proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate(timeout=timeout)[0]
