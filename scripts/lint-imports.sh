#!/usr/bin/env bash
# Check the import contracts of pyproject.toml ([tool.importlinter]: app → canvas → engine
# ← nodes, canvas without torch, engine and nodes without Qt) with .venv/bin/lint-imports.
#
# The layers are top-level folders that setup.py installs as openbrains.engine, ….nodes, …;
# in the checkout openbrains/engine (and nodes, canvas, app) are links to them, so a bare
# `lint-imports` from the repository root reads the same packages. This pins the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/lint-imports --no-cache --no-logo "$@"
