#!/usr/bin/env bash
# Check the import contracts of pyproject.toml ([tool.importlinter]: app → canvas → engine
# ← nodes, canvas without torch, engine and nodes without Qt) with .venv/bin/lint-imports.
#
# Installed, the layers are openbrains.engine, openbrains.nodes… but here they are the
# top-level folders that setup.py maps; import-linter finds packages on disk, so it reads a
# view of the tree in which they sit under openbrains/ (symlinks into this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
view="$(mktemp -d)"
trap 'rm -rf "$view"' EXIT
mkdir "$view/openbrains"
for f in openbrains/*.py; do ln -s "$root/$f" "$view/openbrains/"; done
for layer in engine nodes canvas app; do ln -s "$root/$layer" "$view/openbrains/$layer"; done
cd "$view"
"$root/.venv/bin/lint-imports" --config "$root/pyproject.toml" --no-cache --no-logo "$@"
