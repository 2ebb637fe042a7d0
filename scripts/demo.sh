#!/usr/bin/env bash
# Set up, then run the end-to-end demo on the bundled Telco data (state in ./demo-home).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ENGINE_HOME=${ENGINE_HOME:-$PWD/demo-home} .venv/bin/python -m engine demo "$@"
