#!/usr/bin/env python3
"""Golden token ids from HF tokenizers for every string of hf_infer/corpus.py.

    python hf_infer/make_tokenizer_goldens.py [--out test/data/tokenizer_goldens.json]

For each tokenizer and string: `ids` as AutoTokenizer encodes user text (special tokens added as
the tokenizer config says, special-token strings in the text kept as plain text:
split_special_tokens=True), `ids_parse_special` with special-token strings parsed (HF's default),
and `decoded`, the text HF decodes from `ids` with skip_special_tokens=True.
"""
from __future__ import annotations

import argparse
import os

from corpus import corpus
from hf_common import data_dir, write_golden

# name -> (folder under the shared data dir, file libinfer loads, relative to the shared dir)
TOKENIZERS = {
    "story": ("models/story", "models/story/tokenizer.json"),
    "llama2": ("tokenizers/llama2", "tokenizers/llama2/tokenizer.json"),
    "mistral-spm-json": ("tokenizers/mistral-spm", "tokenizers/mistral-spm/tokenizer.json"),
    "mistral-spm-model": ("tokenizers/mistral-spm", "tokenizers/mistral-spm/tokenizer.model"),
}


def main() -> None:
    from transformers import AutoTokenizer

    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(here, "..", "test", "data", "tokenizer_goldens.json"))
    args = parser.parse_args()

    texts = corpus()
    result = {}
    for name, (folder, file) in TOKENIZERS.items():
        tok = AutoTokenizer.from_pretrained(os.path.join(data_dir(), folder))
        cases = []
        for text in texts:
            ids = tok(text, split_special_tokens=True).input_ids
            cases.append({
                "text": text,
                "ids": ids,
                "ids_parse_special": tok(text).input_ids,
                "decoded": tok.decode(ids, skip_special_tokens=True),
            })
        result[name] = {"file": file, "cases": cases}
    write_golden(args.out, {"tokenizers": result})


if __name__ == "__main__":
    main()
