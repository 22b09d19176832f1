#!/usr/bin/env bash
# Installs libinfer from BUILD_DIR into a scratch prefix, then configures, builds and runs the
# consumer project against it with find_package(infer).
# usage: run_consumer_test.sh BUILD_DIR CONSUMER_SRC MODEL_DIR [SHARED_DATA_DIR]
set -euo pipefail
build=$1 consumer_src=$2 model_dir=$3 data=${INFER_TEST_DATA:-${4:-}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
# Only the public API is installed, and each of its headers stands on its own: the layers under
# it (tensors, kernels, ops, weights files, the single-sequence state) stay inside the library.
for internal in infer/tensor infer/kernels infer/op infer/base/cpu_isa.h infer/base/cuda_check.h \
                infer/base/buffer.h infer/model/weights_file.h infer/model/inference_state.h; do
  if [[ -e "$work/prefix/include/$internal" ]]; then
    echo "an internal header was installed: $internal" >&2
    exit 1
  fi
done
for header in $(cd "$work/prefix/include" && find infer -name '*.h' | sort); do
  echo "#include \"$header\"" | ${CXX:-c++} -std=c++17 -fsyntax-only -I "$work/prefix/include" -x c++ - ||
    { echo "the installed header $header does not compile on its own" >&2; exit 1; }
done
cmake -S "$consumer_src" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
# A real chat model when the SmolLM2 export exists, else the story model with its tokenizer.
if [[ -f "$model_dir/smollm2.bin" ]]; then
  "$work/build/consumer" "$model_dir/smollm2.bin" "$model_dir/smollm2_tokenizer/tokenizer.json"
elif [[ -f "$model_dir/story.bin" && -f "$data/models/story/tokenizer.json" ]]; then
  "$work/build/consumer" "$model_dir/story.bin" "$data/models/story/tokenizer.json"
else
  echo "no exported model; checking only that the consumer links and runs"
  "$work/build/consumer" 2>/dev/null && exit 1 || [[ $? == 2 ]]
fi
