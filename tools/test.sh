#!/usr/bin/env bash
# The README's second command: install what is missing, build, and run every test with ctest
# (GoogleTest, pytest, the find_package consumer). Shared data is found through INFER_TEST_DATA
# (default ../shared); tests that need it are skipped with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
tools/build.sh "$@"
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
