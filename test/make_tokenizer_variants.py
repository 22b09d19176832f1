#!/usr/bin/env python3
"""Writes tokenizer.json variants in the newer Metaspace style from the legacy files in the shared
data folder, so tests cover that style without shipping large files. Standard library only.

    python test/make_tokenizer_variants.py SHARED_DIR OUT_DIR

- llama2-metaspace: what transformers' LlamaConverter writes with legacy=False: no normaliser,
  a Metaspace pre-tokenizer (prepend_scheme "first", no split), the legacy decoder.
- mistral-metaspace-split: Metaspace pre-tokenizer that splits on every "▁" and prepends
  always, with a Metaspace decoder.
- qwen-gpt2-style: Qwen's vocabulary with the pre-tokenization of GPT-2-style files such as
  SmolLM2's: single digits split off, then ByteLevel with GPT-2's own regex; no normaliser.
"""
from __future__ import annotations

import json
import os
import shutil
import sys

VARIANTS = {
    "llama2-metaspace": ("tokenizers/llama2", {
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False},
    }),
    "mistral-metaspace-split": ("tokenizers/mistral-spm", {
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
            {"type": "ByteFallback"}, {"type": "Fuse"}]},
    }),
    "qwen-gpt2-style": ("tokenizers/qwen", {
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
    }),
}


def write_variants(shared: str, out_dir: str) -> list[str]:
    written = []
    for name, (source, changes) in VARIANTS.items():
        src = os.path.join(shared, source)
        with open(os.path.join(src, "tokenizer.json"), encoding="utf-8") as f:
            tokenizer = json.load(f)
        tokenizer.update(changes)
        dst = os.path.join(out_dir, name)
        os.makedirs(dst, exist_ok=True)
        with open(os.path.join(dst, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer, f, ensure_ascii=False)
        shutil.copyfile(os.path.join(src, "tokenizer_config.json"), os.path.join(dst, "tokenizer_config.json"))
        written.append(dst)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    for path in write_variants(sys.argv[1], sys.argv[2]):
        print(f"wrote {path}")
