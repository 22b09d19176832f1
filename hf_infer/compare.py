#!/usr/bin/env python3
"""Run llama_infer and HF transformers side by side on the same checkpoint and prompts, greedy,
and print how far they agree.

    python hf_infer/compare.py --hf_dir ../shared/models/story --bin models/story.bin \\
        [--tokenizer ../shared/models/story/tokenizer.json] [--binary build/demo/llama_infer] \\
        [--max_new_tokens 100] [--prompt TEXT ...]

Exit code 0 when every continuation agrees token for token.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import torch

from hf_common import load_hf_model

DEFAULT_PROMPTS = ["Once upon a time", "Tom had a red ball.", "The cat and the dog"]


def llama_infer(binary: str, model_bin: str, tokenizer: str, prompt: str, max_new_tokens: int) -> dict:
    result = subprocess.run([binary, model_bin, tokenizer, "--prompt", prompt, "--max_new_tokens",
                             str(max_new_tokens), "--output_format", "json"],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        sys.exit(f"llama_infer failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hf_dir", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--tokenizer", help="default: HF_DIR/tokenizer.json")
    parser.add_argument("--binary", default=os.path.join(here, "..", "build", "demo", "llama_infer"))
    parser.add_argument("--max_new_tokens", type=int, default=100)
    parser.add_argument("--prompt", action="append", help="repeatable; default: three story prompts")
    args = parser.parse_args()

    model, tokenizer = load_hf_model(args.hf_dir)
    tokenizer_file = args.tokenizer or os.path.join(args.hf_dir, "tokenizer.json")
    all_agree = True
    print(f"{'prompt':<32} {'prompt ids':>10} {'agree':>10}  first divergence")
    for prompt in args.prompt or DEFAULT_PROMPTS:
        ours = llama_infer(args.binary, args.bin, tokenizer_file, prompt, args.max_new_tokens)
        encoded = tokenizer(prompt, return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**encoded, max_new_tokens=args.max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.eos_token_id)
        theirs = out[0, encoded.input_ids.shape[1]:].tolist()
        same_prompt = ours["prompt_ids"] == encoded.input_ids[0].tolist()
        agree = 0
        while agree < min(len(ours["generated_ids"]), len(theirs)) and ours["generated_ids"][agree] == theirs[agree]:
            agree += 1
        identical = same_prompt and ours["generated_ids"] == theirs
        all_agree &= identical
        where = "none" if identical else f"token {agree}: ours {ours['generated_ids'][agree:agree + 3]} hf {theirs[agree:agree + 3]}"
        print(f"{prompt[:32]:<32} {'same' if same_prompt else 'DIFFERENT':>10} {agree:>4}/{len(theirs):<5}  {where}")
    print("all continuations identical" if all_agree else "continuations differ")
    return 0 if all_agree else 1


if __name__ == "__main__":
    sys.exit(main())
