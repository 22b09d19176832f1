#!/usr/bin/env bash
# The README's first command: install what is missing, build, export the TinyStories model from
# the shared data folder and continue a story with llama_infer.
#   tools/run_story.sh ["your prompt"]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${INFER_TEST_DATA:-../shared}
prompt=${1:-Once upon a time}
tools/install_deps.sh
tools/build.sh
mkdir -p models
if [[ ! -f models/story.bin || "$data/models/story/model.safetensors" -nt models/story.bin ]]; then
  .venv/bin/python tools/export.py "$data/models/story" models/story.bin
fi
build/demo/llama_infer models/story.bin "$data/models/story/tokenizer.json" --prompt "$prompt" \
  --max_new_tokens 200
