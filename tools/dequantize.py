#!/usr/bin/env python3
"""Rewrite a libinfer weights file with its block-quantized matrices as f32.

    python tools/dequantize.py IN.bin OUT.bin

Every q8_0 ... q6_k tensor becomes the f32 values the gguf package dequantizes it to (which
libinfer's own dequantization equals bit for bit); everything else is copied. The two files then
hold the same weights, so comparing their outputs isolates what libinfer's int8 activations cost
from what the format itself costs (tests and bench/RESULTS.md).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import infer_format  # noqa: E402


def dequantize_file(in_path: str, out_path: str) -> None:
    header, arrays = infer_format.read_weights(in_path)
    _, values = infer_format.read_weights_f32(in_path)
    layout, data = [], []
    for t in header["tensors"]:
        name, dtype = t["name"], t["dtype"]
        if infer_format.is_block_dtype(dtype):
            layout.append((name, "f32", t["shape"]))
            data.append(values[name])
        else:
            layout.append((name, dtype, t["shape"], *([t["group_size"]] if "group_size" in t else [])))
            data.append(arrays[name])
    extra = {k: v for k, v in header.items() if k not in ("config", "tensors")}
    extra["dequantized_from"] = header.get("precision", "")
    writer = infer_format.WeightsWriter(out_path, header["config"], infer_format.plan_layout(layout), extra)
    try:
        for (name, *_), array in zip(layout, data):
            writer.write(name, array)
        writer.close()
    except BaseException:
        writer.abort()
        raise


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    try:
        dequantize_file(sys.argv[1], sys.argv[2])
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"dequantize.py: error: {e}")
