#!/usr/bin/env bash
# Sets up everything Open Brains needs on a fresh Debian/Ubuntu machine:
# the apt packages (Qt offscreen/Xvfb libraries, PortAudio, espeak-ng, sox; the desktop
# entry's checkers, PyInstaller's binutils, libXss for the idle time) and
# a virtual environment in .venv with the pinned, tested set of Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libgl1 libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0
  xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0
  libportaudio2 libsndfile1 espeak-ng sox
  desktop-file-utils shared-mime-info binutils libxss1
)

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
# the spoken-digits sample set (sample_graphs/spoken_digits.graph), made with espeak-ng;
# skipped when already present
.venv/bin/python -m openbrains.engine.datasets.spoken data/spoken_digits
echo "setup: ready (.venv)"
