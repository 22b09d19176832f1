#!/usr/bin/env python3
"""Golden GGUF blocks and their values, from the gguf package's own quantize and dequantize.

    python hf_infer/make_quant_goldens.py

Writes test/data/quant_goldens/FORMAT.blocks (uint8) and FORMAT.f32 (little-endian float32) for
every block format of tools/quants.py, and index.json (rows, columns, the command). Each file
holds ROWS rows of COLS values: the first half quantized from seeded normal values (by gguf's
quantizer where it has one, by tools/quants.py's for the K formats), the second half random bytes
with their f16 scales forced finite, so that every bit of the codes is exercised. The .f32 values
are gguf's dequantize of the blocks: libinfer's dequantized blocks must equal them exactly.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import quants  # noqa: E402

from hf_common import command_line  # noqa: E402

ROWS, COLS = 8, 512
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "data", "quant_goldens")
# Byte offsets of each format's f16 scales/minimums inside a block.
HALF_FIELDS = {"q8_0": [0], "q4_0": [0], "q4_1": [0, 2], "q5_0": [0], "q5_1": [0, 2],
               "q4_k": [0, 2], "q5_k": [0, 2], "q6_k": [208]}


def random_blocks(rng: np.random.Generator, name: str, rows: int) -> np.ndarray:
    nbytes = quants.row_bytes(name, COLS)
    blocks = rng.integers(0, 256, size=(rows, nbytes), dtype=np.uint8)
    per_block = quants.FORMATS[name][2]
    view = blocks.reshape(rows, -1, per_block)
    for offset in HALF_FIELDS[name]:
        scales = rng.uniform(-0.1, 0.1, size=view.shape[:2]).astype(np.float16)
        view[:, :, offset:offset + 2] = scales.reshape(rows, -1, 1).view(np.uint8).reshape(rows, -1, 2)
    return blocks


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2026)
    for name in quants.FORMATS:
        values = rng.normal(0, 0.05, size=(ROWS // 2, COLS)).astype(np.float32)
        values[0, :7] = [0.0, -0.0, 1e-8, -3.0, 3.0, 0.5, -0.25]  # extremes inside a block
        values[1, :32] = 0.0  # an all-zero block: scale 0
        blocks = np.concatenate([quants.quantize(values, name), random_blocks(rng, name, ROWS - ROWS // 2)])
        dequantized = quants.dequantize(blocks, name, COLS)
        blocks.tofile(os.path.join(OUT, f"{name}.blocks"))
        dequantized.astype("<f4").tofile(os.path.join(OUT, f"{name}.f32"))
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump({"rows": ROWS, "cols": COLS, "formats": list(quants.FORMATS), "command": command_line()}, f,
                  indent=1)
    print(f"wrote {len(quants.FORMATS)} formats to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
