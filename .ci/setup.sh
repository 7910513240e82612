#!/usr/bin/env bash
# Installs whatever attnlab needs that is missing (Debian 12, as root), then configures and
# builds it in ./build. Idempotent: a second run installs nothing and rebuilds only what changed.
# Usage: bash .ci/setup.sh [extra cmake args]   (BUILD_DIR=build by default)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

packages=(cmake g++ make pkg-config ccache libxtensor-dev libxtensor-blas-dev libxsimd-dev
  libopenblas-openmp-dev libfmt-dev libboost-test-dev libcli11-dev nlohmann-json3-dev
  gnuplot-nox python3-torch python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
