#!/usr/bin/env bash
# Fuzzes libinfer's parsers with clang's libFuzzer under ASan + UBSan.
#   tools/fuzz.sh [SECONDS] [TARGET...]     (default: 600 seconds each, every target)
# Targets (test/fuzz): weights_fuzzer, tokenizer_fuzzer, sentencepiece_fuzzer, session_fuzzer,
# chat_template_fuzzer, http_request_fuzzer. Builds them in build-fuzz (-DINFER_FUZZ=ON), seeds
# each corpus from the test data ($INFER_TEST_DATA, default ../shared; test/fuzz/make_seeds.py)
# and runs them side by side, one per core, each for SECONDS. A crash, sanitizer report, hang
# (10 s per input) or memory past 2 GB stops a target with the input saved as
# build-fuzz/artifacts/TARGET/crash-* (timeout-*, oom-*), and the script fails. Each target's
# log is build-fuzz/logs/TARGET.log; the corpora grow in build-fuzz/corpus/TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(weights_fuzzer tokenizer_fuzzer sentencepiece_fuzzer
                                     session_fuzzer chat_template_fuzzer http_request_fuzzer)
data=$(realpath -m "${INFER_TEST_DATA:-../shared}")
cores=$(nproc)  # before OMP_NUM_THREADS=1 below, which nproc would report instead
out=build-fuzz
command -v clang++ >/dev/null || { echo "fuzz.sh: needs clang (apt-get install clang)" >&2; exit 1; }
[ -f "$data/models/story/config.json" ] ||
  { echo "fuzz.sh: the test data is not at $data (set INFER_TEST_DATA)" >&2; exit 1; }

CC=clang CXX=clang++ BUILD_DIR=$out BUILD_TARGETS="${targets[*]}" tools/build.sh \
  -DINFER_FUZZ=ON -DINFER_CUDA=OFF -DINFER_BUILD_TESTS=OFF -DINFER_BUILD_BENCH=OFF \
  -DINFER_BUILD_DEMOS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
.venv/bin/python test/fuzz/make_seeds.py "$out/corpus" --data "$data"

export INFER_FUZZ_MODEL=$PWD/$out/corpus/story.bin
export INFER_FUZZ_TOKENIZER=$data/models/story/tokenizer.json
# One thread per target (the targets share the cores), and an allocation the machine cannot give
# is an error libinfer reports, not a sanitizer abort.
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1
if [[ " ${targets[*]} " == *" session_fuzzer "* ]]; then
  mkdir -p "$out/corpus/session_fuzzer"
  INFER_FUZZ_WRITE_SEED=$PWD/$out/corpus/session_fuzzer/seed_000 "$out/test/fuzz/session_fuzzer"
fi

run_one() {
  local target=$1
  mkdir -p "$out/artifacts/$target" "$out/logs"
  "$out/test/fuzz/$target" "$out/corpus/$target" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=1048576 -artifact_prefix="$out/artifacts/$target/" \
    -print_final_stats=1 > "$out/logs/$target.log" 2>&1
}
export -f run_one
export out seconds
status=0
printf '%s\n' "${targets[@]}" | xargs -P "$cores" -I{} bash -c 'run_one {}' || status=1
for target in "${targets[@]}"; do
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/logs/$target.log" | grep -o '[0-9]*$' || true)
  if grep -q -E '^==[0-9]+==ERROR|runtime error|deadly signal|Test unit written' "$out/logs/$target.log"; then
    echo "$target: FAILED after ${runs:-?} runs; see $out/logs/$target.log and $out/artifacts/$target/"
    status=1
  else
    echo "$target: clean, ${runs:-?} runs in ${seconds} s, corpus $(ls "$out/corpus/$target" | wc -l) inputs"
  fi
done
exit $status
