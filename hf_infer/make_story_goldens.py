#!/usr/bin/env python3
"""Golden greedy continuations and last-position logits of the story model, from HF transformers.

    python hf_infer/make_story_goldens.py [--out test/data/story_goldens.json]

For each prompt: the prompt ids (HF tokenizer, BOS added), the greedy continuation (up to
--new_tokens tokens or EOS) and the full logits vector of the last prompt position.
"""
from __future__ import annotations

import argparse
import os

import torch

from hf_common import data_dir, load_hf_model, write_golden

PROMPTS = [
    "Once upon a time",
    "One day, a little girl named Lily found a needle in her room.",
    "Tom and his dog went to the park. They saw a big",
    "The sun was hot and the sky was blue.",
    "Mom said, \"Do not touch the cake!\" But Ben",
    "There was a small bird who could not fly. Every day",
    "A",
]


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_dir", default=os.path.join(data_dir(), "models", "story"))
    parser.add_argument("--out", default=os.path.join(here, "..", "test", "data", "story_goldens.json"))
    parser.add_argument("--new_tokens", type=int, default=100)
    args = parser.parse_args()

    model, tokenizer = load_hf_model(args.model_dir)
    cases = []
    with torch.no_grad():
        for prompt in PROMPTS:
            encoded = tokenizer(prompt, return_tensors="pt")
            ids = encoded.input_ids
            logits = model(**encoded).logits[0, -1]
            out = model.generate(**encoded, max_new_tokens=args.new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.eos_token_id)
            generated = out[0, ids.shape[1]:].tolist()
            cases.append({"prompt": prompt, "prompt_ids": ids[0].tolist(), "greedy_ids": generated,
                          "greedy_text": tokenizer.decode(generated, skip_special_tokens=True),
                          "last_logits": [round(float(v), 7) for v in logits]})
    write_golden(args.out, {"model": "story (TinyStories-656K)", "new_tokens": args.new_tokens,
                            "cases": cases})


if __name__ == "__main__":
    main()
