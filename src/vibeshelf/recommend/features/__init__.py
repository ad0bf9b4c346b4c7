"""The ranker's feature store (Feast): book, reader and on-demand reader x book features."""

import os

import prometheus_client  # noqa: F401  (imported before Feast, so this process's metrics stay in memory)

# Importing Feast turns off its usage reports where unset (this machine may have no network) and
# points PROMETHEUS_MULTIPROC_DIR at a temp dir, which would switch the server's /metrics to
# multiprocess mode and empty it: the variables Feast adds are taken back.
_before = set(os.environ)
os.environ.setdefault("FEAST_USAGE", "False")
import feast  # noqa: F401

for _name in ("PROMETHEUS_MULTIPROC_DIR", "PROMETHEUS_MULTIPROCESS_DIR"):
    if _name not in _before:
        os.environ.pop(_name, None)
