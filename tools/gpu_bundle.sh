#!/usr/bin/env bash
# Packs what a lent GPU machine needs to check libinfer's CUDA back end, built here, into
# gpu_bundle/bundle.tar.xz (git-ignored, a few MiB: within what the device tool carries): the
# test and benchmark programs, libinfer and its CUDA module, the Debian libraries they link, the
# tiny exported test models and the goldens. Nothing is built on the device, which may have no
# compiler or package mirror. Then, through the device tool, with carry ["gpu_bundle"]:
#   bash tools/gpu_check.sh        (results under $OUT)
# Build first with tools/build.sh (CUDA is built when nvcc is found) and run the tests once, so
# that the exported test models exist.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
[ -f "$build/source/libinfer_cuda.so" ] ||
  { echo "gpu_bundle.sh: $build has no CUDA module; build with nvcc on the PATH" >&2; exit 1; }
[ -f "$build/test_models/story.bin" ] ||
  { echo "gpu_bundle.sh: no exported test models in $build/test_models; run the tests once" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/models" "$stage/goldens"
cp "$build/test/infer_tests" "$build/bench/infer_bench" "$build/bench/batched_bench" \
   "$build/bench/cuda_kernel_bench" "$build/bench/random_model" "$stage/bin/"
cp -L "$build/source/libinfer.so.0" "$build/source/libinfer_cuda.so" "$stage/lib/"
# Every library the programs link but glibc's own and the CUDA libraries, which must match the
# device's driver and come from its CUDA install.
for program in "$stage/bin/"* "$stage/lib/libinfer_cuda.so"; do
  LD_LIBRARY_PATH="$stage/lib" ldd "$program" | awk '$3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
  case $(basename "$lib") in
    libc.so* | libm.so* | libpthread.so* | libdl.so* | librt.so* | ld-linux* | libcu*) ;;
    libinfer*) ;;
    *) cp -L "$lib" "$stage/lib/" ;;
  esac
done
# The small exports (SmolLM2's are hundreds of MiB: their CUDA tests skip there, naming the file).
find "$build/test_models" -maxdepth 1 -name '*.bin' -size -8M -exec cp {} "$stage/models/" \;
cp -r test/data/. "$stage/goldens/"

mkdir -p gpu_bundle
tar -C "$stage" -cJf gpu_bundle/bundle.tar.xz .
echo "gpu_bundle/bundle.tar.xz: $(du -h gpu_bundle/bundle.tar.xz | cut -f1)"
