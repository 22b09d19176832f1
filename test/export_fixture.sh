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
for model in tiny-llama3 tiny-qwen2; do
  "$python" "$src/tools/export.py" --quiet "$src/test/data/models/$model" "$out_dir/$model.bin"
  echo "exported $model -> $out_dir/$model.bin"
done
story="$data/models/story"
if [[ ! -f "$story/config.json" ]]; then
  echo "no story model at $story (set INFER_TEST_DATA to the shared data folder): tests that need it skip"
  exit 0
fi
"$python" "$src/tools/export.py" --quiet "$story" "$out_dir/story.bin"
echo "exported $story -> $out_dir/story.bin"
"$python" "$src/test/make_tokenizer_variants.py" "$data" "$out_dir/tokenizers"
