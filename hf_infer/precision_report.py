#!/usr/bin/env python3
"""Teacher-forced agreement of libinfer at each precision with HF transformers fp32.

    python hf_infer/precision_report.py --hf_dir ../shared/models/story \\
        --bin fp32=models/story.bin --bin int8=models/story-int8.bin [--tokens 512]
        [--bin "bf16, activations rounded=models/story-bf16.bin:bf16_activations"]

Samples a --tokens long text from the HF model (seeded, temperature 1), computes HF fp32 logits
at every position in one teacher-forced pass, runs build/bench/score on each .bin over the same
ids, and prints per precision: top-1 agreement with HF, and max / mean absolute logit error.

Two references per .bin: the original fp32 weights (what the precision costs, rounding included),
and the .bin's own rounded weights widened back to f32 and run by HF (what the runtime adds: this
should be fp32 rounding only, whatever the storage dtype).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

from hf_common import load_hf_model

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import export  # noqa: E402
import infer_format  # noqa: E402


def logits_on_stored_weights(model, bin_path: str, ids: torch.Tensor) -> np.ndarray:
    """HF's logits with the weights replaced by those stored in bin_path (widened to f32)."""
    header, weights = infer_format.read_weights_f32(bin_path)
    original = {name: p.detach().clone() for name, p in model.named_parameters()}
    plan = export.tensor_plan(header["config"], set(model.state_dict()))
    try:
        with torch.no_grad():
            params = dict(model.named_parameters())
            for ours, hf in plan:
                params[hf].copy_(torch.from_numpy(np.ascontiguousarray(weights[ours])).reshape(params[hf].shape))
            return model(ids[None]).logits[0].numpy()
    finally:
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(original[name])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hf_dir", required=True)
    parser.add_argument("--bin", action="append", required=True,
                        help="NAME=PATH[:FLAG,...] (FLAGs passed to score, e.g. bf16_activations), repeatable")
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--score", default=os.path.join(HERE, "..", "build", "bench", "score"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    if os.path.isfile(os.path.join(args.hf_dir, "tokenizer.json")):
        model, tokenizer = load_hf_model(args.hf_dir)
        bos, pad = tokenizer.bos_token_id, tokenizer.eos_token_id
    else:  # random-weight test models have no tokenizer
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(args.hf_dir, torch_dtype=torch.float32,
                                                     attn_implementation="eager").eval()
        bos = model.config.bos_token_id or 0
        pad = model.generation_config.eos_token_id
        pad = pad[0] if isinstance(pad, list) else pad
    torch.manual_seed(args.seed)
    start = torch.tensor([[bos]])
    with torch.no_grad():
        ids = model.generate(start, attention_mask=torch.ones_like(start), do_sample=True, temperature=1.0, top_k=0,
                             max_new_tokens=args.tokens - 1, min_new_tokens=args.tokens - 1,
                             pad_token_id=pad)[0]
        reference = model(ids[None]).logits[0].numpy()
    ids = ids.tolist()
    hf_top1 = reference.argmax(axis=1)
    print(f"{len(ids)} teacher-forced positions of a sampled text; reference: HF transformers fp32\n")
    print("| precision | top-1 agreement with HF fp32 | max abs logit error | mean abs logit error "
          "| vs HF on the same stored weights: top-1 agreement, max abs logit error |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        ids_path = os.path.join(tmp, "ids.json")
        with open(ids_path, "w") as f:
            json.dump(ids, f)
        for spec in args.bin:
            name, path = spec.split("=", 1)
            path, _, flags = path.partition(":")
            out = os.path.join(tmp, f"{len(os.listdir(tmp))}.f32")
            subprocess.run([args.score, path, ids_path, out] + [f"--{f}" for f in flags.split(",") if f],
                           check=True, capture_output=True)
            ours = np.fromfile(out, dtype=np.float32).reshape(reference.shape)
            agree = float((ours.argmax(axis=1) == hf_top1).mean())
            err = np.abs(ours - reference)
            same_weights = logits_on_stored_weights(model, path, torch.tensor(ids))
            same_agree = float((ours.argmax(axis=1) == same_weights.argmax(axis=1)).mean())
            same_err = np.abs(ours - same_weights).max()
            print(f"| {name} | {agree:.2%} ({round(agree * len(ids))}/{len(ids)}) | {err.max():.4f} | {err.mean():.5f} "
                  f"| {same_agree:.2%}, {same_err:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
