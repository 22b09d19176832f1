#!/usr/bin/env python3
"""Golden token ids from HF AutoTokenizer for every string of hf_infer/corpus.py.

    python hf_infer/make_tokenizer_goldens.py

Writes test/data/tokenizer_corpus.json (the strings) and one file per tokenizer under
test/data/tokenizer_goldens/, whose cases follow the corpus order:
- `ids`: user text as libinfer encodes it by default: special tokens added as the tokenizer's
  configuration says, special-token strings in the text kept as text (split_special_tokens=True);
- `ids_parse_special`: only when different, with special-token strings parsed (HF's default);
- `decoded`: only when different from the text, what HF decodes from `ids` (skip_special_tokens);
- `round_trips`: whether HF's decode gives back the text exactly.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile

from corpus import corpus
from hf_common import command_line, data_dir

# name -> (folder under the shared data dir, file libinfer loads, relative to the shared dir)
TOKENIZERS = {
    "story": ("models/story", "models/story/tokenizer.json"),
    "llama2": ("tokenizers/llama2", "tokenizers/llama2/tokenizer.json"),
    "mistral-spm-json": ("tokenizers/mistral-spm", "tokenizers/mistral-spm/tokenizer.json"),
    "mistral-spm-model": ("tokenizers/mistral-spm", "tokenizers/mistral-spm/tokenizer.model"),
    "llama3": ("tokenizers/llama3", "tokenizers/llama3/tokenizer.json"),
    "qwen": ("tokenizers/qwen", "tokenizers/qwen/tokenizer.json"),
    # Made from the shared files by test/make_tokenizer_variants.py (the ctest fixture writes
    # them under the build tree; "exported:" paths are relative to that folder).
    "llama2-metaspace": ("exported:tokenizers/llama2-metaspace", "exported:tokenizers/llama2-metaspace/tokenizer.json"),
    "mistral-metaspace-split": ("exported:tokenizers/mistral-metaspace-split",
                                "exported:tokenizers/mistral-metaspace-split/tokenizer.json"),
    "qwen-gpt2-style": ("exported:tokenizers/qwen-gpt2-style", "exported:tokenizers/qwen-gpt2-style/tokenizer.json"),
}


# Byte strings that are not valid UTF-8. HF takes Python strings, so the golden is HF's ids for
# bytes.decode("utf-8", errors="replace"): libinfer reads invalid input the same way.
INVALID_UTF8 = [b"\xff", b"abc\xc3", b"\xe4\xbd end", b"\xf0\x9f\x98", b"\xed\xa0\x80 surrogate",
                b"\xc0\xaf overlong", b"ok\x80\x80ok", b"\xf4\x90\x80\x80 too large", b"a\x00b nul"]


def dump(path: str, payload) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path) // 1024} KiB)")


def main() -> None:
    import tokenizers
    import transformers
    from transformers import AutoTokenizer

    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = os.path.join(here, "..", "test", "data")
    sys.path.insert(0, os.path.join(here, "..", "test"))
    from make_tokenizer_variants import write_variants

    variants_dir = tempfile.mkdtemp()
    write_variants(data_dir(), os.path.join(variants_dir, "tokenizers"))
    texts = corpus()
    dump(os.path.join(out_dir, "tokenizer_corpus.json"),
         {"generated_by": command_line(), "texts": texts, "invalid_utf8_hex": [b.hex() for b in INVALID_UTF8]})
    os.makedirs(os.path.join(out_dir, "tokenizer_goldens"), exist_ok=True)
    for name, (folder, file) in TOKENIZERS.items():
        base = variants_dir if folder.startswith("exported:") else data_dir()
        tok = AutoTokenizer.from_pretrained(os.path.join(base, folder.removeprefix("exported:")))
        cases = []
        for text in texts:
            ids = tok(text, split_special_tokens=True).input_ids
            parsed = tok(text).input_ids
            decoded = tok.decode(ids, skip_special_tokens=True)
            case = {"ids": ids}
            if parsed != ids:
                case["ids_parse_special"] = parsed
            if decoded != text:
                case["decoded"] = decoded
            case["round_trips"] = decoded == text
            cases.append(case)
        invalid = [tok(b.decode("utf-8", errors="replace"), split_special_tokens=True).input_ids for b in INVALID_UTF8]
        dump(os.path.join(out_dir, "tokenizer_goldens", f"{name}.json"),
             {"generated_by": command_line(), "hf_class": type(tok).__name__,
              "versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__},
              "file": file, "cases": cases, "invalid_utf8": invalid})


if __name__ == "__main__":
    main()
