#!/usr/bin/env python3
"""Export a Hugging Face checkpoint to a libinfer weights file.

    python tools/export.py HF_DIR OUT.bin [--dtype fp32|fp16|bf16|int8|q8_0|q4_0|q4_1|q5_0|q5_1|
                                                   q4_k|q5_k|q6_k] [--group_size 32]
                                          [--int8_scheme asymmetric|symmetric]

HF_DIR holds config.json and model.safetensors, or sharded *.safetensors with
model.safetensors.index.json. The .bin is self-describing (docs/weights-format.md): the runtime
needs nothing else from HF_DIR but the tokenizer. HF_DIR may also be a llama.cpp .gguf file
(llama architecture): its block-quantized tensors are kept as they are unless --dtype asks for
another precision (tools/gguf_import.py), and a tokenizer.json is rebuilt beside the output, in
OUT_tokenizer/.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import infer_format  # noqa: E402
import quants  # noqa: E402

# HF architecture -> the runtime's arch. Mistral checkpoints are Llama-shaped; Qwen2 adds q/k/v
# biases. One decoder runs them all; the config says what differs.
SUPPORTED_ARCHITECTURES = {"LlamaForCausalLM": "llama", "MistralForCausalLM": "llama",
                           "Qwen2ForCausalLM": "qwen2"}


class ExportError(Exception):
    """A problem with the checkpoint, reported as one line without a traceback."""


def load_config(hf_dir: str) -> dict:
    path = os.path.join(hf_dir, "config.json")
    if not os.path.isfile(path):
        raise ExportError(f"{hf_dir}: no config.json (is this a Hugging Face checkpoint folder?)")
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ExportError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(config, dict):
        raise ExportError(f"{path}: expected a JSON object, got a {type(config).__name__}")
    return config


# Far above any released model, and what the runtime accepts (source/model/config.cpp).
MAX_WIDTH, MAX_COUNT, MAX_ID = 1 << 20, 1 << 14, 2**31 - 1


def int_field(hf: dict, key: str, where: str, lo: int = 1, hi: int = MAX_WIDTH, default=None) -> int:
    """hf[key] as an int in [lo, hi], or ExportError naming the field and the value."""
    if key not in hf or hf[key] is None:
        if default is not None:
            return default
        raise ExportError(f"{where}: config field {key!r} is missing")
    value = hf[key]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ExportError(f"{where}: config field {key!r} must be an integer in [{lo}, {hi}], "
                          f"got {json.dumps(value)[:80]}")
    return value


def number_field(hf: dict, key: str, where: str, default: float | None = None) -> float:
    value = hf.get(key, default)
    if value is None:
        if default is None:
            raise ExportError(f"{where}: config field {key!r} is missing")
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ExportError(f"{where}: config field {key!r} must be a positive number, got {json.dumps(value)[:80]}")
    return float(value)


def token_ids(value, key: str, where: str) -> list[int]:
    """An id or a list of ids (HF writes both), each an integer in [0, 2^31)."""
    ids = value if isinstance(value, list) else [value]
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i <= MAX_ID:
            raise ExportError(f"{where}: {key} must be token ids (integers in [0, {MAX_ID}]), "
                              f"got {json.dumps(value)[:80]}")
    return list(ids)


def runtime_config(hf: dict, hf_dir: str) -> dict:
    """Translates HF config.json into the runtime's config, refusing what it cannot run."""
    archs = hf.get("architectures") or []
    known = [a for a in archs if a in SUPPORTED_ARCHITECTURES]
    if not known:
        raise ExportError(f"{hf_dir}: unsupported architecture {archs or hf.get('model_type')!r}; "
                          f"supported: {', '.join(SUPPORTED_ARCHITECTURES)}")
    arch = SUPPORTED_ARCHITECTURES[known[0]]
    if arch == "llama" and (hf.get("attention_bias") or hf.get("mlp_bias")):
        raise ExportError(f"{hf_dir}: attention_bias/mlp_bias on a Llama checkpoint are not supported")
    max_positions = int_field(hf, "max_position_embeddings", hf_dir, hi=MAX_ID)
    window = hf.get("sliding_window")
    if window and (arch == "llama" or hf.get("use_sliding_window")):
        window = int_field(hf, "sliding_window", hf_dir, hi=MAX_ID)
    if window and (arch == "llama" or hf.get("use_sliding_window")) and window < max_positions:
        # Within the window, sliding-window attention is plain causal attention; beyond it the
        # runtime would differ from HF, so the exported context stops there.
        print(f"note: sliding_window {window} < max_position_embeddings {max_positions}; "
              f"the exported model's context is capped at {window}", file=sys.stderr)
        max_positions = window
    if hf.get("hidden_act", "silu") != "silu":
        raise ExportError(f"{hf_dir}: hidden_act {hf['hidden_act']!r} is not supported (only silu)")
    dim = int_field(hf, "hidden_size", hf_dir)
    n_heads = int_field(hf, "num_attention_heads", hf_dir, hi=MAX_COUNT)
    eos = hf.get("eos_token_id")
    eos_ids = [] if eos is None else token_ids(eos, "eos_token_id", hf_dir)
    gen_path = os.path.join(hf_dir, "generation_config.json")
    if os.path.isfile(gen_path):
        try:
            with open(gen_path, encoding="utf-8") as f:
                gen = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
            raise ExportError(f"{gen_path}: not valid JSON: {e}") from None
        gen_eos = gen.get("eos_token_id") if isinstance(gen, dict) else None
        for e in [] if gen_eos is None else token_ids(gen_eos, "eos_token_id", gen_path):
            if e not in eos_ids:
                eos_ids.append(e)
    bos = hf.get("bos_token_id")
    return {
        "arch": arch,
        "dim": dim,
        "n_layers": int_field(hf, "num_hidden_layers", hf_dir, hi=MAX_COUNT),
        "n_heads": n_heads,
        "n_kv_heads": int_field(hf, "num_key_value_heads", hf_dir, hi=MAX_COUNT, default=n_heads),
        "head_dim": int_field(hf, "head_dim", hf_dir, default=dim // n_heads or None),
        "hidden_dim": int_field(hf, "intermediate_size", hf_dir),
        "vocab_size": int_field(hf, "vocab_size", hf_dir, hi=MAX_ID),
        "max_position_embeddings": max_positions,
        "rope_theta": number_field(hf, "rope_theta", hf_dir, 10000.0),
        "rope_scaling": rope_scaling(hf.get("rope_scaling"), hf_dir),
        "norm_eps": number_field(hf, "rms_norm_eps", hf_dir, 1e-6),
        "tied_embeddings": bool(hf.get("tie_word_embeddings", False)),
        "attention_bias": arch == "qwen2",
        "bos_token_id": -1 if bos is None else token_ids(bos, "bos_token_id", hf_dir)[0],
        "eos_token_ids": eos_ids,
    }


def rope_scaling(scaling: dict | None, hf_dir: str) -> dict | None:
    """HF rope_scaling -> the runtime's form; types other than linear and llama3 are refused."""
    if not scaling:
        return None
    where = f"{hf_dir}: rope_scaling"
    if not isinstance(scaling, dict):
        raise ExportError(f"{where} must be an object, got {json.dumps(scaling)[:80]}")
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind == "default":
        return None
    if kind == "linear":
        return {"type": "linear", "factor": number_field(scaling, "factor", where)}
    if kind == "llama3":
        return {"type": "llama3", "factor": number_field(scaling, "factor", where),
                "low_freq_factor": number_field(scaling, "low_freq_factor", where),
                "high_freq_factor": number_field(scaling, "high_freq_factor", where),
                "original_max_position_embeddings": int_field(
                    scaling, "original_max_position_embeddings", where, hi=MAX_ID)}
    raise ExportError(f"{hf_dir}: rope_scaling type {kind!r} is not supported (linear, llama3)")


class Checkpoint:
    """Tensors of a safetensors checkpoint (single file or shards), read one at a time."""

    def __init__(self, hf_dir: str):
        from safetensors import safe_open

        index = os.path.join(hf_dir, "model.safetensors.index.json")
        single = os.path.join(hf_dir, "model.safetensors")
        if os.path.isfile(index):
            with open(index, encoding="utf-8") as f:
                files = sorted(set(json.load(f)["weight_map"].values()))
        elif os.path.isfile(single):
            files = ["model.safetensors"]
        else:
            raise ExportError(f"{hf_dir}: no model.safetensors or model.safetensors.index.json")
        self._handles, self._paths = {}, {}
        for file in files:
            path = os.path.join(hf_dir, file)
            if not os.path.isfile(path):
                raise ExportError(f"{path}: shard listed in the index is missing")
            try:
                handle = safe_open(path, framework="np")
            except Exception as e:  # safetensors raises several types for a corrupt header
                raise ExportError(f"{path}: cannot read safetensors: {e}") from None
            for key in handle.keys():
                self._handles[key], self._paths[key] = handle, path

    def names(self) -> set[str]:
        return set(self._handles)

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._handles[name].get_slice(name).get_shape())

    def get(self, name: str) -> np.ndarray:
        try:
            return self._handles[name].get_tensor(name)
        except TypeError:
            pass  # numpy has no bfloat16: go through torch, which has
        try:
            from safetensors import safe_open
            import torch  # noqa: F401
        except ImportError:
            raise ExportError(f"tensor {name} is bfloat16; exporting it needs torch (pip install torch)") from None
        with safe_open(self._paths[name], framework="pt") as f:
            return f.get_tensor(name).float().numpy()


def tensor_plan(config: dict, available: set[str]) -> list[tuple[str, str]]:
    """(libinfer name, HF name) for every tensor the runtime reads, in file order."""
    plan = []
    embed = "model.embed_tokens.weight"
    if embed not in available:
        if config["tied_embeddings"] and "lm_head.weight" in available:
            embed = "lm_head.weight"  # tied checkpoints may store the shared matrix only here
        else:
            raise ExportError(f"checkpoint has no {embed}")
    plan.append(("embed.weight", embed))
    for i in range(config["n_layers"]):
        hf, ours = f"model.layers.{i}.", f"layers.{i}."
        plan += [
            (ours + "attn_norm.weight", hf + "input_layernorm.weight"),
            (ours + "attn.q.weight", hf + "self_attn.q_proj.weight"),
            (ours + "attn.k.weight", hf + "self_attn.k_proj.weight"),
            (ours + "attn.v.weight", hf + "self_attn.v_proj.weight"),
            (ours + "attn.o.weight", hf + "self_attn.o_proj.weight"),
        ]
        if config["attention_bias"]:
            plan += [(ours + f"attn.{p}.bias", hf + f"self_attn.{p}_proj.bias") for p in "qkv"]
        plan += [
            (ours + "ffn_norm.weight", hf + "post_attention_layernorm.weight"),
            (ours + "mlp.gate.weight", hf + "mlp.gate_proj.weight"),
            (ours + "mlp.up.weight", hf + "mlp.up_proj.weight"),
            (ours + "mlp.down.weight", hf + "mlp.down_proj.weight"),
        ]
    plan.append(("norm.weight", "model.norm.weight"))
    if not config["tied_embeddings"]:
        plan.append(("head.weight", "lm_head.weight"))
    missing = [hf for _, hf in plan if hf not in available]
    if missing:
        raise ExportError(f"checkpoint is missing {len(missing)} tensor(s), e.g. {missing[:3]}")
    # A config claiming fewer layers than the checkpoint holds would silently drop the rest.
    beyond = sorted(n for n in available if n.startswith(f"model.layers.{config['n_layers']}."))
    if beyond:
        raise ExportError(f"num_hidden_layers is {config['n_layers']}, but the checkpoint has more "
                          f"layers (e.g. {beyond[0]})")
    return plan


DTYPES = {"fp32": "f32", "fp16": "f16", "bf16": "bf16", "int8": "i8", **{q: q for q in quants.FORMATS}}
INT8_SCHEMES = ("asymmetric", "symmetric")
# GGUF tensor types kept as they are by a GGUF export without --dtype.
GGUF_KEPT = {**{fmt: q for q, (fmt, _, _) in quants.FORMATS.items()}, "F32": "f32", "F16": "f16", "BF16": "bf16"}


@dataclasses.dataclass(frozen=True)
class Precision:
    """What --dtype, --group_size and --int8_scheme ask for; dtype is the stored name (f32...), or
    None to keep a GGUF's tensors in their own formats."""
    dtype: str | None = "f32"
    group_size: int = 32
    symmetric: bool = False


def stored_dtype(ours: str, shape: tuple[int, ...], dtype: str, tied: bool = False) -> str:
    """What one tensor is stored as for --dtype `dtype` (a stored name). Norm weights and biases
    stay f32 (tiny, and sensitive). With int8, the embedding table and output head stay f16:
    every logit goes through the head, and int8 there costs most of the agreement with fp32 (see
    bench/RESULTS.md). With a block format, the head (or the tied embedding) is q6_k (q8_0 for
    --dtype q8_0), as llama.cpp does; a K format falls back to a 32-value one for matrices whose
    rows are not whole 256-value blocks, and rows that are not whole 32-value blocks stay f16."""
    if len(shape) != 2:
        return "f32"
    if dtype == "i8" and ours in ("embed.weight", "head.weight"):
        return "f16"
    if dtype not in quants.FORMATS:
        return dtype
    if ours == "head.weight" or (ours == "embed.weight" and tied):
        dtype = "q8_0" if dtype == "q8_0" else "q6_k"
    if shape[1] % quants.block_size(dtype):
        dtype = quants.K_FALLBACK.get(dtype, dtype)
    return dtype if shape[1] % quants.block_size(dtype) == 0 else "f16"


def gguf_kept_dtype(ours: str, checkpoint, hf: str) -> str:
    """A GGUF export without --dtype: matrices keep their GGUF type where libinfer has it, other
    types (Q2_K, IQ*, ...) are dequantized to f16; vectors are f32."""
    if len(checkpoint.shape(hf)) != 2:
        return "f32"
    kept = GGUF_KEPT.get(checkpoint.stored_type(hf))
    if kept is None:
        print(f"note: {hf} is {checkpoint.stored_type(hf)}, which libinfer does not compute on; "
              f"stored as f16", file=sys.stderr)
        return "f16"
    return kept


def plan_dtypes(plan, checkpoint, precision: Precision, tied: bool) -> dict[str, str]:
    """libinfer name -> stored dtype for every tensor of the plan."""
    if precision.dtype is None:
        return {ours: gguf_kept_dtype(ours, checkpoint, hf) for ours, hf in plan}
    return {ours: stored_dtype(ours, checkpoint.shape(hf), precision.dtype, tied) for ours, hf in plan}


def stored_tensors(ours: str, hf: str, checkpoint, dtype: str, precision: Precision
                   ) -> list[tuple[str, np.ndarray]]:
    """The tensor(s) one weight becomes in `dtype`; an int8 matrix is followed by its per-group
    scales, `NAME.scales`, and when asymmetric its offsets, `NAME.offsets`. Blocks a GGUF already
    holds in `dtype` are copied as they are."""
    if dtype in quants.FORMATS:
        if hasattr(checkpoint, "stored_type") and GGUF_KEPT.get(checkpoint.stored_type(hf)) == dtype:
            return [(ours, checkpoint.blocks(hf))]
        return [(ours, quants.quantize(checkpoint.get(hf).astype(np.float32, copy=False), dtype))]
    array = checkpoint.get(hf).astype(np.float32, copy=False)
    if dtype == "f32":
        return [(ours, array)]
    if dtype == "f16":
        return [(ours, array.astype(np.float16))]
    if dtype == "bf16":
        return [(ours, infer_format.to_bf16_bits(array))]
    values, scales, offsets = infer_format.quantize_i8(array, precision.group_size, precision.symmetric)
    out = [(ours, values), (ours + ".scales", scales)]
    return out if offsets is None else out + [(ours + ".offsets", offsets)]


def layout(plan, checkpoint, dtypes: dict[str, str], precision: Precision) -> list[tuple]:
    """(name, dtype, shape[, group_size]) of every stored tensor, in file order."""
    out = []
    group_size = precision.group_size
    for ours, hf in plan:
        shape = checkpoint.shape(hf)
        stored = dtypes[ours]
        if stored != "i8":
            out.append((ours, stored, shape))
            continue
        if shape[1] % group_size:
            common = math.gcd(*(checkpoint.shape(h)[1] for o, h in plan if len(checkpoint.shape(h)) == 2))
            raise ExportError(f"--group_size {group_size} does not divide the {shape[1]} columns of {hf}; "
                              f"choose a divisor of every matrix's in_features (their gcd is {common})")
        groups = (shape[0], shape[1] // group_size)
        out += [(ours, "i8", shape, group_size), (ours + ".scales", "f32", groups)]
        if not precision.symmetric:
            out.append((ours + ".offsets", "f32", groups))
    return out


def tokenizer_dir_for(out_path: str) -> str:
    """Where the tokenizer rebuilt from a GGUF goes: beside OUT.bin, as OUT_tokenizer/."""
    return os.path.splitext(out_path)[0] + "_tokenizer"


def open_source(source: str):
    """(runtime config, checkpoint) for an HF folder or a .gguf file."""
    if source.endswith(".gguf"):
        import gguf_import

        try:
            checkpoint = gguf_import.GgufCheckpoint(source)
            return runtime_config(checkpoint.config(), source), checkpoint
        except gguf_import.GgufError as e:
            raise ExportError(str(e)) from None
    return runtime_config(load_config(source), source), Checkpoint(source)


def check_output_path(out_path: str, source: str) -> None:
    """The output is written beside its final place and renamed over it: that needs an existing
    folder, and must never replace a folder, a device or FIFO, or the checkpoint being read."""
    folder = os.path.dirname(os.path.abspath(out_path))
    if not os.path.isdir(folder):
        raise ExportError(f"{out_path}: the folder {folder} does not exist")
    if os.path.lexists(out_path) and not os.path.isfile(out_path):
        raise ExportError(f"{out_path}: exists and is not a regular file; give a .bin file path")
    if os.path.exists(out_path):
        inputs = [source] if os.path.isfile(source) else [
            os.path.join(source, n) for n in os.listdir(source)] if os.path.isdir(source) else []
        if any(os.path.isfile(i) and os.path.samefile(i, out_path) for i in inputs):
            raise ExportError(f"{out_path}: is one of the input files; choose another output path")


def export(hf_dir: str, out_path: str, dtype: str | None = None, group_size: int = 32,
           int8_scheme: str = "asymmetric", quiet: bool = False) -> dict:
    """dtype None: fp32 for an HF checkpoint, a GGUF's own formats for a .gguf file."""
    if dtype is None and not hf_dir.endswith(".gguf"):
        dtype = "fp32"
    if dtype is not None and dtype not in DTYPES:
        raise ExportError(f"--dtype {dtype!r}: expected one of {', '.join(DTYPES)}")
    if group_size <= 0:
        raise ExportError(f"--group_size must be positive, got {group_size}")
    if int8_scheme not in INT8_SCHEMES:
        raise ExportError(f"--int8_scheme {int8_scheme!r}: expected one of {', '.join(INT8_SCHEMES)}")
    precision = Precision(None if dtype is None else DTYPES[dtype], group_size, int8_scheme == "symmetric")
    check_output_path(out_path, hf_dir)
    config, checkpoint = open_source(hf_dir)
    plan = tensor_plan(config, checkpoint.names())
    dtypes = plan_dtypes(plan, checkpoint, precision, config["tied_embeddings"])

    entries = infer_format.plan_layout(layout(plan, checkpoint, dtypes, precision))
    extra = {"format": "libinfer", "exporter": "tools/export.py", "source": os.path.abspath(hf_dir),
             "precision": dtype or "gguf"}
    if precision.dtype == "i8":
        extra["int8"] = {"scheme": int8_scheme, "group_size": group_size}
    writer = infer_format.WeightsWriter(out_path, config, entries, extra)
    total = sum(e.nbytes for e in entries)
    written, started = 0, time.time()
    try:
        for n, (ours, hf) in enumerate(plan, start=1):
            for name, array in stored_tensors(ours, hf, checkpoint, dtypes[ours], precision):
                writer.write(name, array)
                written += array.nbytes
            if not quiet:
                shape = checkpoint.shape(hf)
                print(f"[{n}/{len(plan)}] {ours:<28} {'x'.join(map(str, shape)):>12} "
                      f"{dtypes[ours]:<4} "
                      f"{written / total:6.1%} of {total / 2**20:.1f} MiB", file=sys.stderr)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    if hf_dir.endswith(".gguf"):
        try:
            checkpoint.write_tokenizer(tokenizer_dir_for(out_path))
        except Exception as e:
            raise ExportError(str(e)) from None
        if not quiet:
            print(f"wrote {tokenizer_dir_for(out_path)}/tokenizer.json (rebuilt from the GGUF vocabulary)",
                  file=sys.stderr)
    if not quiet:
        kinds = ", ".join(f"{n} {d}" for d, n in sorted(collections.Counter(dtypes.values()).items()))
        print(f"wrote {out_path}: {len(plan)} weights ({kinds}), {os.path.getsize(out_path) / 2**20:.1f} MiB "
              f"in {time.time() - started:.1f} s", file=sys.stderr)
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("hf_dir", help="Hugging Face checkpoint folder, or a llama-architecture .gguf file "
                                       "(its tokenizer is written to OUT_tokenizer/)")
    parser.add_argument("out", help="output .bin path")
    parser.add_argument("--dtype", default=None, choices=sorted(DTYPES),
                        help="precision of the weight matrices (norms and biases stay fp32); default fp32, "
                             "and for a .gguf its own block formats. int8 has one fp32 scale (and offset) "
                             "per group of --group_size columns; q8_0 ... q6_k are GGUF's block formats "
                             "(the output head becomes q6_k, q8_0 for q8_0)")
    parser.add_argument("--group_size", type=int, default=32, help="int8 group size (default 32)")
    parser.add_argument("--int8_scheme", default="asymmetric", choices=INT8_SCHEMES,
                        help="asymmetric (default): each group's [min, max] over 256 levels, w = q*scale + "
                             "offset; symmetric: w = q*scale with scale = max|w|/127")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    try:
        export(args.hf_dir, args.out, dtype=args.dtype, group_size=args.group_size,
               int8_scheme=args.int8_scheme, quiet=args.quiet)
    except ExportError as e:
        print(f"export.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
