#!/usr/bin/env bash
# Configures and builds libinfer in BUILD_DIR (default build/), using the .venv Python for the
# Python-side tests. Extra arguments go to CMake, e.g. tools/build.sh -DINFER_CUDA=OFF;
# BUILD_TARGETS (space-separated) builds only those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DPython3_EXECUTABLE="$PWD/.venv/bin/python" "$@" >/dev/null
targets=()
for target in ${BUILD_TARGETS:-}; do targets+=(--target "$target"); done
cmake --build "$build_dir" "${targets[@]}"
