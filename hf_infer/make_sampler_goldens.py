#!/usr/bin/env python3
"""Golden sampling distributions from HF transformers' own logits processors.

    python hf_infer/make_sampler_goldens.py

Writes test/data/sampler_goldens.json: fixed logits, a context (the ids the repetition penalty
sees), and for each setting the probabilities HF samples from after applying, in generate()'s
order, RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper,
TopPLogitsWarper and MinPLogitsWarper, then softmax. Frequency and presence penalties are
OpenAI's, not HF's, and are tested by their formula in C++.
"""
from __future__ import annotations

import json
import os

import torch
from transformers.generation.logits_process import (MinPLogitsWarper, RepetitionPenaltyLogitsProcessor,
                                                    TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper)

from hf_common import command_line

SETTINGS = [
    {"temperature": 1.0},
    {"temperature": 0.7},
    {"temperature": 1.5, "top_k": 5},
    {"temperature": 1.0, "top_k": 7},  # the 7th best is tied with the 8th: both stay
    {"temperature": 1.0, "top_p": 0.8},
    {"temperature": 1.3, "top_p": 0.5},
    {"temperature": 1.0, "min_p": 0.1},
    {"temperature": 0.8, "top_k": 12, "top_p": 0.9, "min_p": 0.05},
    {"temperature": 1.0, "repetition_penalty": 1.3},
    {"temperature": 0.9, "repetition_penalty": 0.8, "top_p": 0.95},
]


def hf_probabilities(logits: torch.Tensor, context: list[int], s: dict) -> list[float]:
    processors = []
    if s.get("repetition_penalty", 1.0) != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(s["repetition_penalty"]))
    if s["temperature"] != 1.0:
        processors.append(TemperatureLogitsWarper(s["temperature"]))
    if s.get("top_k"):
        processors.append(TopKLogitsWarper(s["top_k"]))
    if s.get("top_p", 1.0) < 1.0:
        processors.append(TopPLogitsWarper(s["top_p"]))
    if s.get("min_p"):
        processors.append(MinPLogitsWarper(s["min_p"]))
    ids = torch.tensor([context])
    scores = logits.clone()[None]
    for p in processors:
        scores = p(ids, scores)
    return torch.softmax(scores, dim=-1)[0].tolist()


def main() -> None:
    generator = torch.Generator().manual_seed(7)
    logits = torch.randn(40, generator=generator, dtype=torch.float64).float() * 2.0
    order = logits.argsort(descending=True)
    logits[order[7]] = logits[order[6]]  # a tie at the top-k boundary
    context = [int(order[0]), int(order[3]), int(order[3]), int(order[20]), int(order[39])]
    cases = [{"settings": s, "probabilities": hf_probabilities(logits, context, s)} for s in SETTINGS]
    out = {"generated_by": command_line(), "logits": logits.tolist(), "context": context, "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "data", "sampler_goldens.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
