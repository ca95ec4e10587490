#!/usr/bin/env bash
# Builds the standalone one-folder bundle dist/openbrains/ (run ./dist/openbrains/openbrains)
# with PyInstaller from the pinned environment that scripts/setup.sh makes (.venv, from
# requirements.lock). Usage: bash installer/build.sh [DIST_DIR]   (default: dist)
set -euo pipefail
cd "$(dirname "$0")/.."
dist="${1:-dist}"
[ -x .venv/bin/pyinstaller ] || bash scripts/setup.sh
start=$(date +%s)
work=build/pyinstaller
rm -rf "$work/package"
# the package installed (not editable) into a folder of its own: what the bundle freezes
.venv/bin/python -m pip install -q --no-deps --no-build-isolation --no-compile \
  --target "$work/package" .
export OPENBRAINS_PACKAGE="$PWD/$work/package"
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work" installer/openbrains.spec
# the ready projects beside the program, where a person finds them
rm -rf "$dist/openbrains/sample_graphs"
cp -r sample_graphs "$dist/openbrains/sample_graphs"
size=$(du -sm "$dist/openbrains" | cut -f1)
echo "build: $dist/openbrains in $(( $(date +%s) - start )) s, ${size} MB"
