#!/usr/bin/env bash
# Set up the test environment and run the whole default test suite (slow tests: add -m slow).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
exec .venv/bin/python -m pytest "$@"
