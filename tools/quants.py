"""GGUF block formats on the Python side: quantize f32 rows into blocks, and dequantize them.

The 32-value formats (q8_0, q4_0, q4_1, q5_0, q5_1) are quantized by the gguf package itself, so
their blocks are those llama.cpp writes. The gguf package has no quantizer for the K formats
(q4_k, q5_k, q6_k); they are quantized here (quantize_q4_k, ...) by a plain min/max fit of each
sub-block with the scales themselves quantized to 6 (8 for q6_k) bits, and read back with gguf's
dequantizer, which defines the format. A format is one entry in FORMATS plus, where gguf lacks
one, a quantizer function.
"""
from __future__ import annotations

import numpy as np

# name -> (gguf quantization type name, values per block, bytes per block)
FORMATS = {
    "q8_0": ("Q8_0", 32, 34),
    "q4_0": ("Q4_0", 32, 18),
    "q4_1": ("Q4_1", 32, 20),
    "q5_0": ("Q5_0", 32, 22),
    "q5_1": ("Q5_1", 32, 24),
    "q4_k": ("Q4_K", 256, 144),
    "q5_k": ("Q5_K", 256, 176),
    "q6_k": ("Q6_K", 256, 210),
}
# What a matrix whose rows are not whole blocks of a K format is stored as instead (llama.cpp's
# own choice for such tensors).
K_FALLBACK = {"q4_k": "q5_0", "q5_k": "q5_1", "q6_k": "q8_0"}


def _qtype(name: str):
    from gguf import GGMLQuantizationType

    return GGMLQuantizationType[FORMATS[name][0]]


def block_size(name: str) -> int:
    return FORMATS[name][1]


def row_bytes(name: str, cols: int) -> int:
    return cols // FORMATS[name][1] * FORMATS[name][2]


def dequantize(blocks: np.ndarray, name: str, cols: int) -> np.ndarray:
    """uint8 [rows, row_bytes] -> float32 [rows, cols], by the gguf package."""
    from gguf.quants import dequantize as gguf_dequantize

    return np.asarray(gguf_dequantize(np.ascontiguousarray(blocks, dtype=np.uint8), _qtype(name)),
                      dtype=np.float32).reshape(blocks.shape[0], cols)


def quantize(array: np.ndarray, name: str) -> np.ndarray:
    """float32 [rows, cols] (cols a multiple of the block) -> uint8 [rows, row_bytes]."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    rows, cols = array.shape
    if cols % block_size(name):
        raise ValueError(f"{name}: rows of {cols} values are not whole blocks of {block_size(name)}")
    if name in K_QUANTIZERS:
        blocks = K_QUANTIZERS[name](array.reshape(-1, 256))
    else:
        from gguf.quants import quantize as gguf_quantize

        blocks = gguf_quantize(array, _qtype(name))
    return np.ascontiguousarray(blocks, dtype=np.uint8).reshape(rows, row_bytes(name, cols))


def _f16_bytes(values: np.ndarray) -> np.ndarray:
    """float32 [n] -> uint8 [n, 2] of their f16 bits."""
    return values.astype(np.float16).reshape(-1, 1).view(np.uint8)


def _pack_k4_scales(sc: np.ndarray, mn: np.ndarray) -> np.ndarray:
    """6-bit scales and mins [n, 8] -> ggml's 12-byte packing (inverse of get_scale_min_k4)."""
    sc, mn = sc.astype(np.uint8), mn.astype(np.uint8)
    out = np.zeros((sc.shape[0], 12), dtype=np.uint8)
    out[:, 0:4] = (sc[:, 0:4] & 63) | ((sc[:, 4:8] >> 4) << 6)
    out[:, 4:8] = (mn[:, 0:4] & 63) | ((mn[:, 4:8] >> 4) << 6)
    out[:, 8:12] = (sc[:, 4:8] & 0x0F) | ((mn[:, 4:8] & 0x0F) << 4)
    return out


def _k_scales(x: np.ndarray, levels: int):
    """Per 32-value sub-block of super-blocks x [n, 256]: d, dmin (f16-rounded f32) and the 6-bit
    sc, mn such that w ~ d*sc*q - dmin*mn with q in [0, levels]."""
    sub = x.reshape(-1, 8, 32)
    lo = np.minimum(sub.min(axis=2), 0.0)
    hi = sub.max(axis=2)
    scale = (hi - lo) / levels
    d = (scale.max(axis=1) / 63).astype(np.float16).astype(np.float32)
    dmin = ((-lo).max(axis=1) / 63).astype(np.float16).astype(np.float32)
    safe_d, safe_dmin = np.where(d == 0, 1, d), np.where(dmin == 0, 1, dmin)
    sc = np.clip(np.rint(scale / safe_d[:, None]), 0, 63)
    mn = np.clip(np.rint(-lo / safe_dmin[:, None]), 0, 63)
    return d, dmin, sc, mn


def _k_codes(x: np.ndarray, d, dmin, sc, mn, levels: int) -> np.ndarray:
    sub = x.reshape(-1, 8, 32)
    step = (d[:, None] * sc)[:, :, None]
    offset = (dmin[:, None] * mn)[:, :, None]
    q = np.rint((sub + offset) / np.where(step == 0, 1, step))
    return np.clip(np.where(step == 0, 0, q), 0, levels).astype(np.uint8)


def quantize_q4_k(x: np.ndarray) -> np.ndarray:
    d, dmin, sc, mn = _k_scales(x, 15)
    q = _k_codes(x, d, dmin, sc, mn, 15).reshape(-1, 4, 2, 32)
    qs = (q[:, :, 0, :] | (q[:, :, 1, :] << 4)).reshape(-1, 128)
    return np.concatenate([_f16_bytes(d), _f16_bytes(dmin), _pack_k4_scales(sc, mn), qs], axis=1)


def quantize_q5_k(x: np.ndarray) -> np.ndarray:
    d, dmin, sc, mn = _k_scales(x, 31)
    q = _k_codes(x, d, dmin, sc, mn, 31)  # [n, 8, 32]
    low = (q & 0x0F).reshape(-1, 4, 2, 32)
    qs = (low[:, :, 0, :] | (low[:, :, 1, :] << 4)).reshape(-1, 128)
    qh = np.zeros((q.shape[0], 32), dtype=np.uint8)
    for s in range(8):
        qh |= ((q[:, s, :] >> 4) & 1) << s
    return np.concatenate([_f16_bytes(d), _f16_bytes(dmin), _pack_k4_scales(sc, mn), qh, qs], axis=1)


def quantize_q6_k(x: np.ndarray) -> np.ndarray:
    sub = x.reshape(-1, 16, 16)
    scale = np.abs(sub).max(axis=2) / 31  # q - 32 in [-31, 31]
    d = (scale.max(axis=1) / 127).astype(np.float16).astype(np.float32)
    sc = np.clip(np.rint(scale / np.where(d == 0, 1, d)[:, None]), 0, 127)
    step = (d[:, None] * sc)[:, :, None]
    q = np.rint(sub / np.where(step == 0, 1, step))
    q = (np.clip(np.where(step == 0, 0, q), -32, 31) + 32).astype(np.uint8).reshape(-1, 2, 4, 32)
    ql = np.zeros((q.shape[0], 2, 64), dtype=np.uint8)
    qh = np.zeros((q.shape[0], 2, 32), dtype=np.uint8)
    for t in range(4):
        low = q[:, :, t, :] & 0x0F
        ql[:, :, 32 * (t % 2):32 * (t % 2) + 32] |= low << (4 * (t // 2))
        qh |= (q[:, :, t, :] >> 4) << (2 * t)
    return np.concatenate([ql.reshape(-1, 128), qh.reshape(-1, 64), sc.astype(np.int8).view(np.uint8),
                           _f16_bytes(d)], axis=1)


K_QUANTIZERS = {"q4_k": quantize_q4_k, "q5_k": quantize_q5_k, "q6_k": quantize_q6_k}
