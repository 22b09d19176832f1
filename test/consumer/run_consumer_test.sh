#!/usr/bin/env bash
# Installs libinfer from BUILD_DIR into a scratch prefix, then configures, builds and runs the
# consumer project against it with find_package(infer).
# usage: run_consumer_test.sh BUILD_DIR CONSUMER_SRC MODEL_DIR
set -euo pipefail
build=$1 consumer_src=$2 model_dir=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$consumer_src" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
if [[ -f "$model_dir/story.bin" ]]; then
  "$work/build/consumer" "$model_dir/story.bin"
else
  echo "story.bin not exported; checking only that the consumer links and runs"
  "$work/build/consumer" 2>/dev/null && exit 1 || [[ $? == 2 ]]
fi
