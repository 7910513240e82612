#!/usr/bin/env bash
# Installs whatever attnlab needs that is missing (Debian 12, as root), then configures and
# builds it in ./build. Idempotent: a second run installs nothing and rebuilds only what changed.
# Usage: bash .ci/setup.sh [extra cmake args]   (BUILD_DIR=build by default)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

packages=(cmake g++ make pkg-config ccache libxtensor-dev libxtensor-blas-dev libxsimd-dev
  libopenblas-openmp-dev libfmt-dev libboost-test-dev libcli11-dev nlohmann-json3-dev
  gnuplot-nox python3-torch python3-numpy parallel)
source .ci/install_missing.sh
install_missing setup "${packages[@]}"

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
