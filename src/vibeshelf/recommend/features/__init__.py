"""The ranker's feature store (Feast): book, reader and on-demand reader x book features."""

import os
import sys

import prometheus_client  # noqa: F401  (imported before Feast, so this process's metrics stay in memory)

# Importing Feast turns off its usage reports where unset (this machine may have no network) and
# points PROMETHEUS_MULTIPROC_DIR at a temp dir, which would switch the server's /metrics to
# multiprocess mode and empty it: the variables Feast adds are taken back.
# Feast also imports torch eagerly where it is installed (only for tensor outputs, which nothing
# here asks for): a serving process must not load torch, so Feast is imported with torch hidden.
_before = set(os.environ)
os.environ.setdefault("FEAST_USAGE", "False")
_hide_torch = "torch" not in sys.modules
if _hide_torch:
    sys.modules["torch"] = None  # type: ignore[assignment]  (an import of it raises ImportError)
try:
    import feast  # noqa: F401
finally:
    if _hide_torch and sys.modules.get("torch", ...) is None:
        del sys.modules["torch"]

for _name in ("PROMETHEUS_MULTIPROC_DIR", "PROMETHEUS_MULTIPROCESS_DIR"):
    if _name not in _before:
        os.environ.pop(_name, None)
