#!/usr/bin/env python3
"""Seed corpora for the libFuzzer targets of test/fuzz, made from the test data.

    python test/fuzz/make_seeds.py OUT_DIR [--data DIR]    (DIR: $INFER_TEST_DATA or ../shared)

Writes OUT_DIR/<target>/seed_* for every target but session_fuzzer (whose seed the target saves
itself, tools/fuzz.sh), and OUT_DIR/story.bin, the model the session target runs. The seeds are
small on purpose: a fuzzer mutates a 5 KB weights file thousands of times a second, a 9 MB
tokenizer.json a few times.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import export  # noqa: E402

SAMPLE_TEXT = "Hello, world! <|im_start|>user\n 12345 naïve 日本語 🙂\t\r\n  end</s>"


def write_seeds(out_dir: str, target: str, seeds: list[bytes]) -> None:
    folder = os.path.join(out_dir, target)
    os.makedirs(folder, exist_ok=True)
    for i, seed in enumerate(seeds):
        with open(os.path.join(folder, f"seed_{i:03d}"), "wb") as f:
            f.write(seed)
    print(f"{target}: {len(seeds)} seeds", file=sys.stderr)


def micro_checkpoint(folder: str, arch: str, tied: bool) -> None:
    """A random checkpoint of the smallest real shape: 1 layer, 2 heads, vocab 32."""
    from safetensors.numpy import save_file

    config = {"architectures": [arch], "hidden_size": 8, "num_hidden_layers": 1,
              "num_attention_heads": 2, "num_key_value_heads": 1, "intermediate_size": 16,
              "vocab_size": 32, "max_position_embeddings": 64, "rms_norm_eps": 1e-6,
              "tie_word_embeddings": tied, "bos_token_id": 1, "eos_token_id": 2,
              "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0, "original_max_position_embeddings": 16}}
    shapes = {"model.embed_tokens.weight": (32, 8), "model.norm.weight": (8,),
              "model.layers.0.input_layernorm.weight": (8,),
              "model.layers.0.post_attention_layernorm.weight": (8,),
              "model.layers.0.self_attn.q_proj.weight": (8, 8),
              "model.layers.0.self_attn.k_proj.weight": (4, 8),
              "model.layers.0.self_attn.v_proj.weight": (4, 8),
              "model.layers.0.self_attn.o_proj.weight": (8, 8),
              "model.layers.0.mlp.gate_proj.weight": (16, 8),
              "model.layers.0.mlp.up_proj.weight": (16, 8),
              "model.layers.0.mlp.down_proj.weight": (8, 16)}
    if not tied:
        shapes["lm_head.weight"] = (32, 8)
    if arch == "Qwen2ForCausalLM":
        shapes.update({f"model.layers.0.self_attn.{p}_proj.bias": (n,) for p, n in
                       (("q", 8), ("k", 4), ("v", 4))})
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    rng = np.random.default_rng(0)
    save_file({k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()},
              os.path.join(folder, "model.safetensors"))


def weights_seeds(scratch: str) -> list[bytes]:
    seeds = []
    for arch, tied in (("LlamaForCausalLM", True), ("Qwen2ForCausalLM", False)):
        ckpt = os.path.join(scratch, f"{arch}_{tied}")
        micro_checkpoint(ckpt, arch, tied)
        for dtype, scheme in (("fp32", "asymmetric"), ("fp16", "asymmetric"), ("bf16", "asymmetric"),
                              ("int8", "asymmetric"), ("int8", "symmetric")):
            out = os.path.join(scratch, f"{arch}_{tied}_{dtype}_{scheme}.bin")
            export.export(ckpt, out, dtype=dtype, group_size=4, int8_scheme=scheme, quiet=True)
            with open(out, "rb") as f:
                seeds.append(f.read())
    return seeds


def shrunk_tokenizer(path: str, keep: int = 400) -> dict:
    """`path`'s tokenizer.json with its pipeline intact but only the first `keep` vocabulary
    entries, the merges among them, and its added tokens renumbered to follow them."""
    with open(path, encoding="utf-8") as f:
        tok = json.load(f)
    model = tok["model"]
    vocab = {piece: i for piece, i in model["vocab"].items() if i < keep}
    merges = []
    for m in model.get("merges", []):
        left, right = m if isinstance(m, list) else m.split(" ", 1)
        if left in vocab and right in vocab and left + right in vocab:
            merges.append(m)
    model["vocab"], model["merges"] = vocab, merges
    renumbered = {}
    for n, t in enumerate(tok.get("added_tokens") or []):
        renumbered[t["id"]] = t["id"] if t["id"] < keep else keep + n
        t["id"] = renumbered[t["id"]]
    post = tok.get("post_processor") or {}
    for processor in post.get("processors", [post]):
        for special in (processor.get("special_tokens") or {}).values():
            special["ids"] = [renumbered.get(i, i % keep) for i in special["ids"]]
    return tok


def tokenizer_seeds(data: str) -> list[bytes]:
    seeds = []
    for path in sorted(glob.glob(os.path.join(data, "tokenizers", "*", "tokenizer.json"))):
        seeds.append(json.dumps(shrunk_tokenizer(path), ensure_ascii=False).encode() + b"\0" +
                     SAMPLE_TEXT.encode())
    with open(os.path.join(data, "models", "story", "tokenizer.json"), "rb") as f:
        seeds.append(f.read() + b"\0" + SAMPLE_TEXT.encode())
    return seeds


def sentencepiece_seeds(data: str) -> list[bytes]:
    with open(os.path.join(data, "tokenizers", "mistral-spm", "tokenizer.model"), "rb") as f:
        return [SAMPLE_TEXT.encode() + b"\0" + f.read()]


def chat_template_seeds(data: str) -> list[bytes]:
    """Every real template, each followed by a conversation of the goldens."""
    with open(os.path.join(ROOT, "test", "data", "jinja_goldens.json"), encoding="utf-8") as f:
        goldens = json.load(f)
    conversations = list(goldens["conversations"].values())
    sources = [t["source"] for t in goldens["templates"].values()]
    for path in sorted(glob.glob(os.path.join(data, "chat_templates", "*.jinja"))):
        with open(path, encoding="utf-8") as f:
            sources.append(f.read())
    return [source.encode() + b"\0" + json.dumps(conversations[i % len(conversations)],
                                                  ensure_ascii=False).encode()
            for i, source in enumerate(sources)]


def http_request_seeds() -> list[bytes]:
    bodies = [
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}],
         "max_tokens": 8, "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05, "seed": 3,
         "stop": ["\n\n", "User:"], "stream": True, "stream_options": {"include_usage": True},
         "logprobs": True, "top_logprobs": 3, "frequency_penalty": 0.5, "presence_penalty": -0.5,
         "repetition_penalty": 1.1, "model": "story"},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is 2+2?"}]},
                      {"role": "assistant", "content": None, "tool_calls": [
                          {"id": "call_1", "type": "function",
                           "function": {"name": "add", "arguments": "{\"a\": 2, \"b\": 2}"}}]},
                      {"role": "tool", "tool_call_id": "call_1", "content": "4"}],
         "tools": [{"type": "function", "function": {"name": "add", "parameters": {
             "type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}}]},
        {"prompt": "Once upon a time", "max_tokens": 16, "echo": False, "logprobs": 2},
        {"prompt": [1, 415, 302, 2047], "max_tokens": 4, "ignore_eos": True},
        {"system": "You are a pirate.", "temperature": 0.2, "content": "Ahoy", "turn": 0},
        # Once a crash: a content part whose "type" is an object.
        {"messages": [{"role": "user", "content": [{"type": {"name": "add"}, "text": "x"}]}],
         "add_special": "yes"},
    ]
    return [json.dumps(b).encode() for b in bodies]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--data", default=os.environ.get("INFER_TEST_DATA") or
                        os.path.join(ROOT, "..", "shared"))
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.data, "models", "story", "config.json")):
        print(f"make_seeds: the test data is not at {args.data} (set INFER_TEST_DATA)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        write_seeds(args.out_dir, "weights_fuzzer", weights_seeds(scratch))
    write_seeds(args.out_dir, "tokenizer_fuzzer", tokenizer_seeds(args.data))
    write_seeds(args.out_dir, "sentencepiece_fuzzer", sentencepiece_seeds(args.data))
    write_seeds(args.out_dir, "chat_template_fuzzer", chat_template_seeds(args.data))
    write_seeds(args.out_dir, "http_request_fuzzer", http_request_seeds())
    export.export(os.path.join(args.data, "models", "story"), os.path.join(args.out_dir, "story.bin"),
                  quiet=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
