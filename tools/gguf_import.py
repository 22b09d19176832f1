#!/usr/bin/env python3
"""Read a llama-architecture GGUF file (llama.cpp's format) as a Hugging Face checkpoint.

    python tools/gguf_import.py MODEL.gguf OUT_DIR     # writes an HF checkpoint folder

The same code serves `tools/export.py MODEL.gguf OUT.bin`, which keeps block-quantized tensors
as they are (blocks()); here tensors are dequantised to float32 with the `gguf` package, renamed
to HF's names, and the q/k rows that llama.cpp's converter
permutes for its interleaved RoPE are put back in HF's rotate-half order. The tokenizer
(`tokenizer.json`, `tokenizer_config.json` with the chat template) is rebuilt from the GGUF
vocabulary, merges and pre-tokenizer name.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np


class GgufError(Exception):
    """A GGUF this importer cannot read faithfully; the message names what and why."""


# llama.cpp's names for the pre-tokenizer regexes -> tokenizer.json pre-tokenizer, ignore_merges.
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")
BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
PRE_TOKENIZERS = {
    "smollm": ({"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True}, dict(BYTE_LEVEL, use_regex=True)]}, False),
    "gpt2": (dict(BYTE_LEVEL, use_regex=True), False),
    "default": (dict(BYTE_LEVEL, use_regex=True), False),
    "llama-bpe": ({"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX}, "behavior": "Isolated", "invert": False},
        BYTE_LEVEL]}, True),
    "qwen2": ({"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": QWEN2_REGEX}, "behavior": "Isolated", "invert": False},
        BYTE_LEVEL]}, False),
}
CONTROL, USER_DEFINED = 3, 4


def _unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Inverse of llama.cpp's permute(): interleaved RoPE pairs back to HF's two halves."""
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


class GgufCheckpoint:
    """A GGUF file seen as an HF checkpoint: config(), names(), shape(name), get(name)."""

    def __init__(self, path: str):
        try:
            from gguf import GGUFReader
        except ImportError:
            raise GgufError("reading GGUF needs the gguf package (pip install gguf)") from None
        try:
            self._reader = GGUFReader(path)
        except Exception as e:  # the reader raises several types on damaged files
            raise GgufError(f"{path}: not a readable GGUF file: {e}") from None
        self.path = path
        arch = self.field("general.architecture")
        if arch != "llama":
            raise GgufError(f"{path}: GGUF architecture {arch!r} is not supported (llama)")
        self._tensors = {t.name: t for t in self._reader.tensors}
        if "rope_freqs.weight" in self._tensors:
            raise GgufError(f"{path}: rope_freqs (Llama 3.1-style rope scaling) in GGUF is not supported yet")
        self._names = {}  # HF name -> GGUF name
        for name in self._tensors:
            hf = self._hf_name(name)
            if hf is None:
                raise GgufError(f"{path}: unexpected tensor {name}")
            self._names[hf] = name

    def field(self, key: str, default=None):
        f = self._reader.fields.get(key)
        return default if f is None else f.contents()

    def _hf_name(self, name: str) -> str | None:
        fixed = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
                 "output.weight": "lm_head.weight"}
        if name in fixed:
            return fixed[name]
        parts = name.split(".")
        if len(parts) != 4 or parts[0] != "blk":
            return None
        layer = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
                 "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
                 "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
                 "ffn_down": "mlp.down_proj"}.get(parts[2])
        return None if layer is None else f"model.layers.{parts[1]}.{layer}.{parts[3]}"

    def config(self) -> dict:
        n_head = int(self.field("llama.attention.head_count"))
        dim = int(self.field("llama.embedding_length"))
        tokens = self.field("tokenizer.ggml.tokens")
        config = {
            "architectures": ["LlamaForCausalLM"],
            "hidden_size": dim,
            "intermediate_size": int(self.field("llama.feed_forward_length")),
            "num_hidden_layers": int(self.field("llama.block_count")),
            "num_attention_heads": n_head,
            "num_key_value_heads": int(self.field("llama.attention.head_count_kv", n_head)),
            "head_dim": int(self.field("llama.rope.dimension_count", dim // n_head)),
            "vocab_size": len(tokens),
            "max_position_embeddings": int(self.field("llama.context_length")),
            "rope_theta": float(self.field("llama.rope.freq_base", 10000.0)),
            "rms_norm_eps": float(self.field("llama.attention.layer_norm_rms_epsilon")),
            "tie_word_embeddings": "output.weight" not in self._tensors,
            "bos_token_id": self.field("tokenizer.ggml.bos_token_id"),
            "eos_token_id": self.field("tokenizer.ggml.eos_token_id"),
            "hidden_act": "silu",
            "torch_dtype": "float32",
            "model_type": "llama",
        }
        scaling = self.field("llama.rope.scaling.type")
        if scaling not in (None, "none"):
            if scaling != "linear":
                raise GgufError(f"{self.path}: rope scaling type {scaling!r} is not supported (linear)")
            config["rope_scaling"] = {"rope_type": "linear", "factor": float(self.field("llama.rope.scaling.factor"))}
        return config

    def names(self) -> set[str]:
        return set(self._names)

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(int(d) for d in reversed(self._tensors[self._names[name]].shape))

    def stored_type(self, name: str) -> str:
        """The GGUF quantization type of a tensor, by gguf's name ("Q4_1", "F32", ...)."""
        return self._tensors[self._names[name]].tensor_type.name

    def blocks(self, name: str) -> np.ndarray:
        """A block-format tensor's bytes as uint8 [rows, row bytes], rows in HF's order (the q/k
        rows llama.cpp permuted are put back whole: a row is a whole number of blocks)."""
        tensor = self._tensors[self._names[name]]
        rows = self.shape(name)[0]
        data = np.asarray(tensor.data).view(np.uint8).reshape(rows, -1)
        if name.endswith("self_attn.q_proj.weight"):
            return _unpermute(data, int(self.field("llama.attention.head_count")))
        if name.endswith("self_attn.k_proj.weight"):
            return _unpermute(data, int(self.field("llama.attention.head_count_kv")))
        return data

    def get(self, name: str) -> np.ndarray:
        from gguf.quants import dequantize

        tensor = self._tensors[self._names[name]]
        try:
            array = dequantize(tensor.data, tensor.tensor_type)
        except NotImplementedError:
            raise GgufError(f"{self.path}: tensor {tensor.name}: quantization type {tensor.tensor_type.name} "
                            f"cannot be dequantized by the gguf package") from None
        array = np.asarray(array, dtype=np.float32).reshape(self.shape(name))
        if name.endswith("self_attn.q_proj.weight"):
            array = _unpermute(array, int(self.field("llama.attention.head_count")))
        elif name.endswith("self_attn.k_proj.weight"):
            array = _unpermute(array, int(self.field("llama.attention.head_count_kv")))
        return array

    def write_tokenizer(self, out_dir: str) -> None:
        """tokenizer.json + tokenizer_config.json rebuilt from the GGUF vocabulary."""
        model = self.field("tokenizer.ggml.model")
        if model != "gpt2":
            raise GgufError(f"{self.path}: GGUF tokenizer model {model!r} is not supported (gpt2, i.e. byte-level "
                            f"BPE); use the checkpoint's own tokenizer file")
        pre = self.field("tokenizer.ggml.pre", "default")
        if pre not in PRE_TOKENIZERS:
            raise GgufError(f"{self.path}: GGUF pre-tokenizer {pre!r} is not supported ({', '.join(PRE_TOKENIZERS)})")
        pre_tokenizer, ignore_merges = PRE_TOKENIZERS[pre]
        tokens = self.field("tokenizer.ggml.tokens")
        types = self.field("tokenizer.ggml.token_type")
        added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": False, "special": types[i] == CONTROL}
                 for i, t in enumerate(tokens) if types[i] in (CONTROL, USER_DEFINED)]
        bos, eos = self.field("tokenizer.ggml.bos_token_id"), self.field("tokenizer.ggml.eos_token_id")
        add_bos = bool(self.field("tokenizer.ggml.add_bos_token", False))
        post = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
        if add_bos and bos is not None:
            post = {"type": "TemplateProcessing",
                    "single": [{"SpecialToken": {"id": tokens[bos], "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                    "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                    "special_tokens": {tokens[bos]: {"id": tokens[bos], "ids": [bos], "tokens": [tokens[bos]]}}}
        tokenizer = {
            "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
            "pre_tokenizer": pre_tokenizer, "post_processor": post,
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": ignore_merges, "vocab": {t: i for i, t in enumerate(tokens)},
                      "merges": list(self.field("tokenizer.ggml.merges"))},
        }
        config = {"tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False,
                  "add_bos_token": add_bos, "add_eos_token": False,
                  "bos_token": None if bos is None else tokens[bos], "eos_token": None if eos is None else tokens[eos],
                  "model_max_length": int(self.field("llama.context_length"))}
        template = self.field("tokenizer.chat_template")
        if template:
            config["chat_template"] = template
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer, f, ensure_ascii=False)
        with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=1)


def write_hf_checkpoint(gguf_path: str, out_dir: str) -> None:
    """An HF checkpoint folder (config, safetensors, tokenizer) with the GGUF's dequantised weights."""
    from safetensors.numpy import save_file

    checkpoint = GgufCheckpoint(gguf_path)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(checkpoint.config(), f, indent=1)
    save_file({name: checkpoint.get(name) for name in sorted(checkpoint.names())},
              os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    checkpoint.write_tokenizer(out_dir)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    try:
        write_hf_checkpoint(sys.argv[1], sys.argv[2])
    except GgufError as e:
        sys.exit(f"gguf_import.py: error: {e}")
    print(f"wrote {sys.argv[2]}", file=sys.stderr)
