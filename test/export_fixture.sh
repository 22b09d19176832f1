#!/usr/bin/env bash
# ctest fixture: export the story model from the shared data folder into the build tree, and
# write the Metaspace-style tokenizer variants the tokenizer tests use.
# usage: export_fixture.sh PYTHON SOURCE_DIR DEFAULT_DATA_DIR OUT_DIR
set -euo pipefail
python=$1 src=$2 default_data=$3 out_dir=$4
data=${INFER_TEST_DATA:-$default_data}
story="$data/models/story"
if [[ ! -f "$story/config.json" ]]; then
  echo "skipped: no story model at $story (set INFER_TEST_DATA to the shared data folder)"
  exit 77
fi
mkdir -p "$out_dir"
"$python" "$src/tools/export.py" --quiet "$story" "$out_dir/story.bin"
echo "exported $story -> $out_dir/story.bin"
"$python" "$src/test/make_tokenizer_variants.py" "$data" "$out_dir/tokenizers"
