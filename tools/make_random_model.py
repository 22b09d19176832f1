#!/usr/bin/env python3
"""Random-weight Hugging Face checkpoints of real shapes, seeded, made with transformers.

    python tools/make_random_model.py SHAPE OUT_DIR [--seed 0] [--init_std 0.02] [--numpy]

SHAPE is one of the names below: real model shapes for benchmarks, and tiny models for tests that
exercise every architecture feature (Llama 3 rope scaling, GQA, head_dim != hidden/heads,
untied head; Qwen2 q/k/v biases with a tied head). The weights are random, so outputs are
meaningless, but they exercise the same code and memory traffic as the real models. Needs torch
and transformers (hf_infer/requirements.txt); --numpy writes the same tensors (HF names, fp16
safetensors, normal(0, std) weights, norms near 1) with numpy and safetensors alone, for
benchmarks on a machine without torch.
"""
from __future__ import annotations

import argparse
import sys

LLAMA3_ROPE = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 8192}

SHAPES = {
    # name: (config class, kwargs)
    "llama-3.2-1b": ("LlamaConfig", dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                                          num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
                                          max_position_embeddings=131072, rope_theta=500000.0,
                                          rope_scaling=LLAMA3_ROPE, tie_word_embeddings=True, rms_norm_eps=1e-5,
                                          bos_token_id=128000, eos_token_id=[128001, 128008, 128009])),
    "qwen2.5-0.5b": ("Qwen2Config", dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                                         num_attention_heads=14, num_key_value_heads=2, vocab_size=151936,
                                         max_position_embeddings=32768, rope_theta=1000000.0,
                                         tie_word_embeddings=True, rms_norm_eps=1e-6, bos_token_id=151643,
                                         eos_token_id=151645)),
    "smollm2-135m": ("LlamaConfig", dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                                         num_attention_heads=9, num_key_value_heads=3, vocab_size=49152,
                                         max_position_embeddings=8192, rope_theta=100000.0,
                                         tie_word_embeddings=True, rms_norm_eps=1e-5, bos_token_id=1,
                                         eos_token_id=2)),
    # Tests: small enough to commit, every feature of the real ones.
    "tiny-llama3": ("LlamaConfig", dict(hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2, head_dim=24,
                                        vocab_size=320, max_position_embeddings=1024, rope_theta=500000.0,
                                        rope_scaling=dict(LLAMA3_ROPE, original_max_position_embeddings=32),
                                        tie_word_embeddings=False, rms_norm_eps=1e-5, bos_token_id=0,
                                        eos_token_id=[1, 2])),
    "tiny-qwen2": ("Qwen2Config", dict(hidden_size=64, intermediate_size=176, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=1, vocab_size=300,
                                       max_position_embeddings=1024, rope_theta=1000000.0,
                                       tie_word_embeddings=True, rms_norm_eps=1e-6, bos_token_id=0,
                                       eos_token_id=1)),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shape", choices=sorted(SHAPES))
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init_std", type=float, default=None,
                        help="weight init std (default: 0.02 for real shapes; larger for tiny ones so that "
                             "greedy decoding has clear winners)")
    parser.add_argument("--numpy", action="store_true",
                        help="write with numpy + safetensors (fp16), without torch/transformers")
    args = parser.parse_args()
    if args.numpy:
        return write_with_numpy(args)

    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    class_name, kwargs = SHAPES[args.shape]
    std = args.init_std if args.init_std is not None else (0.25 if args.shape.startswith("tiny") else 0.02)
    config = getattr(transformers, class_name)(initializer_range=std, torch_dtype="float32", **kwargs)
    torch.manual_seed(args.seed)
    model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
    with torch.no_grad():
        # Norm weights start at 1.0; perturb them so a transposed or skipped norm is caught.
        for name, p in model.named_parameters():
            if "norm" in name:
                p.mul_(1 + 0.1 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.normal_(0, std)
    model.save_pretrained(args.out_dir, safe_serialization=True)
    n = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out_dir}: {args.shape}, {n / 1e6:.2f}M parameters, seed {args.seed}", file=sys.stderr)
    return 0


def write_with_numpy(args: argparse.Namespace) -> int:
    """The checkpoint's tensors by their HF names, drawn with numpy, stored as fp16."""
    import json
    import os

    import numpy as np
    from safetensors.numpy import save_file

    class_name, kwargs = SHAPES[args.shape]
    std = args.init_std if args.init_std is not None else (0.25 if args.shape.startswith("tiny") else 0.02)
    rng = np.random.default_rng(args.seed)
    hidden, inter = kwargs["hidden_size"], kwargs["intermediate_size"]
    heads, kv_heads = kwargs["num_attention_heads"], kwargs["num_key_value_heads"]
    head_dim = kwargs.get("head_dim", hidden // heads)
    qwen = class_name == "Qwen2Config"

    def normal(*shape: int) -> np.ndarray:
        return rng.normal(0.0, std, size=shape).astype(np.float16)

    def norm(n: int) -> np.ndarray:
        return (1 + 0.1 * rng.standard_normal(n)).astype(np.float16)

    tensors = {"model.embed_tokens.weight": normal(kwargs["vocab_size"], hidden),
               "model.norm.weight": norm(hidden)}
    if not kwargs["tie_word_embeddings"]:
        tensors["lm_head.weight"] = normal(kwargs["vocab_size"], hidden)
    for i in range(kwargs["num_hidden_layers"]):
        p = f"model.layers.{i}."
        tensors[p + "input_layernorm.weight"] = norm(hidden)
        tensors[p + "post_attention_layernorm.weight"] = norm(hidden)
        for name, rows in (("q", heads * head_dim), ("k", kv_heads * head_dim), ("v", kv_heads * head_dim)):
            tensors[p + f"self_attn.{name}_proj.weight"] = normal(rows, hidden)
            if qwen:
                tensors[p + f"self_attn.{name}_proj.bias"] = normal(rows)
        tensors[p + "self_attn.o_proj.weight"] = normal(hidden, heads * head_dim)
        tensors[p + "mlp.gate_proj.weight"] = normal(inter, hidden)
        tensors[p + "mlp.up_proj.weight"] = normal(inter, hidden)
        tensors[p + "mlp.down_proj.weight"] = normal(hidden, inter)
    os.makedirs(args.out_dir, exist_ok=True)
    save_file(tensors, os.path.join(args.out_dir, "model.safetensors"))
    config = dict(kwargs, architectures=["Qwen2ForCausalLM" if qwen else "LlamaForCausalLM"],
                  model_type="qwen2" if qwen else "llama", hidden_act="silu", torch_dtype="float16",
                  initializer_range=std, attention_bias=False, mlp_bias=False)
    if "head_dim" not in config:
        config["head_dim"] = head_dim
    with open(os.path.join(args.out_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    n = sum(t.size for t in tensors.values())
    print(f"wrote {args.out_dir}: {args.shape}, {n / 1e6:.2f}M parameters (numpy, fp16), seed {args.seed}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
