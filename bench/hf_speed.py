#!/usr/bin/env python3
"""HF transformers' batch-1 speed on a checkpoint, measured like build/bench/infer_bench: the
reference figure that libinfer's speed is quoted against (same machine, same threads, fp32).

    python bench/hf_speed.py HF_DIR --prompt_tokens 128 --gen_tokens 32 --threads 2
    python bench/hf_speed.py HF_DIR --device cuda      # the GPU reference, same model

Prints one JSON object: prefill tokens/s (one forward pass over a random prompt), decode
tokens/s (greedy steps with the KV cache), medians over --repeats after one warm-up run.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from transformers import AutoModelForCausalLM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("hf_dir")
    parser.add_argument("--prompt_tokens", type=int, default=128)
    parser.add_argument("--gen_tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = AutoModelForCausalLM.from_pretrained(args.hf_dir, torch_dtype=torch.float32)
    model = model.eval().to(args.device)
    generator = torch.Generator().manual_seed(1)
    prompt = torch.randint(0, model.config.vocab_size, (1, args.prompt_tokens), generator=generator)
    prompt = prompt.to(args.device)

    def finish() -> None:
        # GPU work is asynchronous; a generation loop needs each token on the host, as infer_bench does.
        if args.device == "cuda":
            torch.cuda.synchronize()
    prefill, decode = [], []
    with torch.inference_mode():
        for run in range(args.repeats + 1):
            start = time.perf_counter()
            out = model(prompt, use_cache=True)
            finish()
            prefill_s = time.perf_counter() - start
            cache, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
            start = time.perf_counter()
            for _ in range(args.gen_tokens):
                out = model(token, past_key_values=cache, use_cache=True)
                cache, token = out.past_key_values, out.logits[:, -1:].argmax(-1)
                finish()
            decode_s = time.perf_counter() - start
            if run:
                prefill.append(prefill_s)
                decode.append(decode_s)
    print(json.dumps({"model": args.hf_dir, "device": args.device, "threads": args.threads, "torch": torch.__version__,
                      "prefill_tokens_per_s": args.prompt_tokens / statistics.median(prefill),
                      "decode_tokens_per_s": args.gen_tokens / statistics.median(decode)}))


if __name__ == "__main__":
    main()
