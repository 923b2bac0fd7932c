#!/usr/bin/env bash
# Set up DynVision on a fresh machine: system packages, a virtual environment in .venv and the
# four packages installed editable with the development tools. Safe to run again.
#
# Environment:
#   PYTHON=python3.11        interpreter for the virtual environment (default: python3)
#   DYNVISION_SKIP_APT=1     do not install system packages (install them yourself, see APT_PACKAGES)
#   DYNVISION_NO_FFCV=1      skip the optional FFCV extra (the plain PyTorch loader is used instead)
set -euo pipefail
cd "$(dirname "$0")/.."

# graphviz: `snakemake --dag | dot`; chromium: the report's headless-browser check; the rest: what FFCV compiles
# and links against at run time.
APT_PACKAGES=(graphviz chromium libopencv-dev libturbojpeg0-dev pkg-config)
VENV=.venv
PYTHON=${PYTHON:-python3}

log() { printf '[install %4ss] %s\n' "$SECONDS" "$*"; }

missing_apt_packages() {
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || printf '%s\n' "$pkg"
  done
}

if [ "${DYNVISION_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
  mapfile -t missing < <(missing_apt_packages)
  if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "apt-get install ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# A first install puts about 6.5 GB into .venv (torch with its CUDA libraries) and unpacks wheels on the
# way: refuse at once rather than fail half-way with a full disk.
NEED_GB=8
if ! [ -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  free_gb=$(( $(df -Pk . | awk 'NR == 2 {print $4}') / 1024 / 1024 ))
  if [ "$free_gb" -lt "$NEED_GB" ]; then
    echo "install: only ${free_gb} GB free on the disk of $(pwd); a first install needs ${NEED_GB} GB" >&2
    exit 1
  fi
fi

[ -x "$VENV/bin/python" ] || { log "creating $VENV with $PYTHON"; "$PYTHON" -m venv "$VENV"; }
pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
# snakemake 9 does not work with packaging 26; hatch would pull it in otherwise.
"${pip[@]}" install -q --upgrade pip 'packaging<26'

data="packages/dynvision-data[ffcv]"
[ "${DYNVISION_NO_FFCV:-0}" = 1 ] && data="packages/dynvision-data"
log "installing the four packages (editable) and the development tools"
"${pip[@]}" install -q \
  -e "packages/dynvision-models" \
  -e "$data" \
  -e "packages/dynvision-viz" \
  -e "packages/dynvision-workflow[slurm]" \
  'packaging<26' pytest pytest-xdist ruff build hatch
log "done: $("$VENV/bin/dynvision" models --version), $("$VENV/bin/dynvision" data --version)," \
  "$("$VENV/bin/dynvision" viz --version), $("$VENV/bin/dynvision" workflow --version)"
