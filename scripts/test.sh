#!/usr/bin/env bash
# Set up the test environment and run the whole default test suite (slow tests: add -m slow).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
# Tests that start Redis/Valkey or PostgreSQL fail (never skip) when the server cannot start.
export CI="${CI:-1}"
exec .venv/bin/python -m pytest "$@"
