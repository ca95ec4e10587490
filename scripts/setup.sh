#!/usr/bin/env bash
# Sets up everything Open Brains needs on a fresh Debian/Ubuntu machine:
# the apt packages (Qt offscreen/Xvfb libraries, PortAudio, espeak-ng, sox; the desktop
# entry's checkers, PyInstaller's binutils, libXss for the idle time; a C compiler and
# Chromium for the exporters' tests), a virtual environment in .venv with the pinned,
# tested set of Python packages (the [export] extra and Ray, the [ray] extra behind
# `--backend ray`, included, so the suite tests them), and onnxruntime-web from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libgl1 libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0
  xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0
  libportaudio2 libsndfile1 espeak-ng sox
  desktop-file-utils shared-mime-info binutils libxss1
  gcc libc6-dev chromium
)
# npm fetches onnxruntime-web below; install Debian's only where there is no npm at all
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing apt packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.openbrains-installed
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  touch "$stamp"
fi
# onnxruntime-web for `openbrains export --format web` (docs/export.md): fetched once from
# npm at a pinned version, checked against the registry's published hash, and kept in the
# package (not committed), so exporting a web page works offline.
ORT_WEB_VERSION=1.30.0
ORT_WEB_INTEGRITY="sha512-q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ=="
ORT_WEB_FILES=(ort.wasm.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm)
runtime=engine/exporters/web_runtime
if [ "$(cat "$runtime/VERSION" 2>/dev/null)" != "$ORT_WEB_VERSION" ]; then
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "onnxruntime-web@$ORT_WEB_VERSION" >/dev/null)
  tarball="$tmp/onnxruntime-web-$ORT_WEB_VERSION.tgz"
  got="$(.venv/bin/python -c 'import base64, hashlib, sys; print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")"
  if [ "$got" != "$ORT_WEB_INTEGRITY" ]; then
    echo "setup: onnxruntime-web $ORT_WEB_VERSION from npm does not match its pinned hash" >&2
    rm -rf "$tmp"
    exit 1
  fi
  tar -xzf "$tarball" -C "$tmp" "${ORT_WEB_FILES[@]/#/package/dist/}"
  rm -rf "$runtime" && mkdir -p "$runtime"
  for f in "${ORT_WEB_FILES[@]}"; do cp "$tmp/package/dist/$f" "$runtime/$f"; done
  echo "$ORT_WEB_VERSION" > "$runtime/VERSION"
  rm -rf "$tmp"
  echo "setup: onnxruntime-web $ORT_WEB_VERSION in $runtime"
fi
# the spoken-digits sample set (sample_graphs/spoken_digits.graph), made with espeak-ng;
# skipped when already present
.venv/bin/python -m openbrains.engine.datasets.spoken data/spoken_digits
echo "setup: ready (.venv)"
