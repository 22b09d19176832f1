#!/usr/bin/env bash
# Fuzzes the chat-template interpreter with clang's libFuzzer under ASan + UBSan.
#   tools/fuzz_jinja.sh [SECONDS]   (default 600)
# Builds build-fuzz/jinja_fuzzer from the interpreter's sources alone, seeds a corpus with the
# real templates of the shared data ($INFER_TEST_DATA, default ../shared) and the goldens'
# conversations, and runs for SECONDS; a crash, sanitizer report, hang (10 s per input) or
# memory past 2 GB stops it with the input saved as build-fuzz/crash-* / timeout-* / oom-*.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
data=${INFER_TEST_DATA:-../shared}
out=build-fuzz
mkdir -p "$out/corpus"
command -v clang++ >/dev/null || { echo "fuzz_jinja: needs clang (apt-get install clang)" >&2; exit 1; }
clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -Iinclude -Isource/internal test/fuzz/jinja_fuzzer.cpp source/generate/jinja/*.cpp \
  -o "$out/jinja_fuzzer"
# Seeds: every real template, each followed by a conversation from the goldens.
.venv/bin/python - "$data" "$out/corpus" <<'PY'
import glob, json, os, sys
data, corpus = sys.argv[1], sys.argv[2]
goldens = json.load(open("test/data/jinja_goldens.json", encoding="utf-8"))
conversations = list(goldens["conversations"].values())
sources = [t["source"] for t in goldens["templates"].values()]
sources += [open(p, encoding="utf-8").read() for p in sorted(glob.glob(os.path.join(data, "chat_templates", "*.jinja")))]
for i, source in enumerate(sources):
    conversation = conversations[i % len(conversations)]
    seed = source.encode() + b"\0" + json.dumps(conversation, ensure_ascii=False).encode()
    with open(os.path.join(corpus, f"seed_{i:03d}"), "wb") as f:
        f.write(seed)
PY
"$out/jinja_fuzzer" "$out/corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -artifact_prefix="$out/" -print_final_stats=1
