#!/usr/bin/env bash
# Set up and run the demo: ingest the bundled sample, embed, index, serve on http://127.0.0.1:8000/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/vibeshelf demo "$@"
