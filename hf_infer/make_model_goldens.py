#!/usr/bin/env python3
"""Golden greedy continuations and last-position logits from HF transformers (fp32, eager
attention) for one checkpoint.

    python hf_infer/make_model_goldens.py --model_dir DIR --out FILE [--new_tokens N]

With a tokenizer in DIR, prompts are the story prompts below (BOS added by the tokenizer);
without one (random-weight test models), prompts are seeded random token ids. For each prompt:
prompt ids, the greedy continuation (up to N tokens or EOS), the logits of the last prompt
position (all of them for vocabularies up to 4096, else the 64 largest), and the smallest top-1/top-2 logit gap met along the greedy path (a small gap
would make the comparison fragile).
"""
from __future__ import annotations

import argparse
import os
import random
import sys

import torch

from hf_common import load_hf_model, write_golden

CHAT_QUESTIONS = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "Explain in two sentences why the sky is blue.",
    "List three prime numbers.",
    "How do I reverse a list in Python?",
]

STORY_PROMPTS = [
    "Once upon a time",
    "One day, a little girl named Lily found a needle in her room.",
    "Tom and his dog went to the park. They saw a big",
    "The sun was hot and the sky was blue.",
    "Mom said, \"Do not touch the cake!\" But Ben",
    "There was a small bird who could not fly. Every day",
    "A",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--new_tokens", type=int, default=100)
    parser.add_argument("--chat", action="store_true",
                        help="prompts are questions rendered with the tokenizer's chat template")
    args = parser.parse_args()

    has_tokenizer = os.path.isfile(os.path.join(args.model_dir, "tokenizer.json"))
    if has_tokenizer:
        model, tokenizer = load_hf_model(args.model_dir)
        if args.chat:
            prompts = [(q, tokenizer.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True))
                       for q in CHAT_QUESTIONS]
        else:
            prompts = [(p, tokenizer(p).input_ids) for p in STORY_PROMPTS]
    else:
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(args.model_dir, torch_dtype=torch.float32,
                                                     attn_implementation="eager").eval()
        tokenizer = None
        rng = random.Random(11)
        vocab = model.config.vocab_size
        eos = model.generation_config.eos_token_id
        eos = set(eos if isinstance(eos, list) else [eos])
        prompts = [(None, [rng.choice([t for t in range(vocab) if t not in eos]) for _ in range(n)])
                   for n in (1, 5, 17, 40, 96)]

    eos_ids = model.generation_config.eos_token_id
    pad_id = eos_ids[0] if isinstance(eos_ids, list) else eos_ids
    cases = []
    with torch.no_grad():
        for text, ids in prompts:
            input_ids = torch.tensor([ids])
            mask = torch.ones_like(input_ids)
            logits = model(input_ids, attention_mask=mask).logits[0, -1]
            out = model.generate(input_ids, attention_mask=mask, max_new_tokens=args.new_tokens, do_sample=False,
                                 output_scores=True, return_dict_in_generate=True,
                                 pad_token_id=pad_id)
            generated = out.sequences[0, len(ids):].tolist()
            gap = min(float(s[0].topk(2).values[0] - s[0].topk(2).values[1]) for s in out.scores)
            case = {"prompt_ids": ids, "greedy_ids": generated, "min_top2_gap": round(gap, 5)}
            if logits.numel() <= 4096:
                case["last_logits"] = [round(float(v), 7) for v in logits]
            else:  # large vocabularies: the 64 largest, as [id, value] pairs, to keep the file small
                top = logits.topk(64)
                case["last_logits_top"] = [[int(i), round(float(v), 6)] for v, i in zip(top.values, top.indices)]
            if text is not None:
                case = {"prompt": text, **case, "greedy_text": tokenizer.decode(generated, skip_special_tokens=True)}
            cases.append(case)
            print(f"prompt of {len(ids)} tokens: {len(generated)} generated, smallest top-2 gap {gap:.4f}",
                  file=sys.stderr)
    write_golden(args.out, {"model": os.path.basename(os.path.normpath(args.model_dir)),
                            "new_tokens": args.new_tokens, "cases": cases})


if __name__ == "__main__":
    main()
