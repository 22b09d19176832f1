"""libinfer's weights file: writer and reader (docs/weights-format.md).

Layout: b"LIBINFER", u32 version, u32 flags, u64 header length, UTF-8 JSON header, zero padding
to the next 4096-byte boundary (the data region), then each tensor at a 64-byte aligned offset
relative to the data region. Little-endian throughout.
"""
from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from typing import BinaryIO, Iterable

import numpy as np

import quants

MAGIC = b"LIBINFER"
FORMAT_VERSION = 1
PREAMBLE = struct.Struct("<8sIIQ")
DATA_ALIGNMENT = 4096
TENSOR_ALIGNMENT = 64

NUMPY_DTYPES = {"f32": np.float32, "f16": np.float16, "bf16": np.uint16, "i8": np.int8, "i32": np.int32}
DTYPE_SIZES = {"f32": 4, "f16": 2, "bf16": 2, "i8": 1, "i32": 4}


def is_block_dtype(dtype: str) -> bool:
    return dtype in quants.FORMATS


def tensor_bytes(dtype: str, shape) -> int:
    """Bytes of a tensor: numel times the element size, or whole blocks of a block format."""
    numel = int(np.prod(shape, dtype=np.int64))
    if is_block_dtype(dtype):
        _, values, nbytes = quants.FORMATS[dtype]
        return numel // values * nbytes
    return numel * DTYPE_SIZES[dtype]


def _align(n: int, alignment: int) -> int:
    return (n + alignment - 1) // alignment * alignment


@dataclass
class TensorEntry:
    name: str
    dtype: str
    shape: tuple[int, ...]
    offset: int  # relative to the data region
    nbytes: int
    group_size: int = 0  # i8 only

    def to_json(self) -> dict:
        entry = {"name": self.name, "dtype": self.dtype, "shape": list(self.shape),
                 "offset": self.offset, "bytes": self.nbytes}
        if self.group_size:
            entry["group_size"] = self.group_size
        return entry


def plan_layout(tensors: Iterable[tuple]) -> list[TensorEntry]:
    """Assigns aligned offsets to (name, dtype, shape[, group_size]) tuples, in order."""
    entries, offset = [], 0
    for name, dtype, shape, *group in tensors:
        nbytes = tensor_bytes(dtype, shape)
        entries.append(TensorEntry(name, dtype, tuple(int(d) for d in shape), offset, nbytes, *group))
        offset = _align(offset + nbytes, TENSOR_ALIGNMENT)
    return entries


def encode_header(config: dict, entries: list[TensorEntry], extra: dict | None = None) -> bytes:
    header = dict(extra or {})
    header["config"] = config
    header["tensors"] = [e.to_json() for e in entries]
    return json.dumps(header, ensure_ascii=False).encode("utf-8")


def data_start(header_len: int) -> int:
    return _align(PREAMBLE.size + header_len, DATA_ALIGNMENT)


class WeightsWriter:
    """Streams tensors into a weights file in the order planned, so that a checkpoint larger
    than memory can be exported one tensor at a time. Writes to PATH.partial and renames on
    success, so an interrupted export never leaves a truncated .bin behind."""

    def __init__(self, path: str, config: dict, entries: list[TensorEntry], extra: dict | None = None):
        self.path = path
        self.entries = entries
        self._next = 0
        header = encode_header(config, entries, extra)
        self._tmp = path + ".partial"
        self._f: BinaryIO = open(self._tmp, "wb")
        self._f.write(PREAMBLE.pack(MAGIC, FORMAT_VERSION, 0, len(header)))
        self._f.write(header)
        self._data_start = data_start(len(header))
        self._pad_to(self._data_start)

    def _pad_to(self, position: int) -> None:
        here = self._f.tell()
        if position < here:
            raise AssertionError(f"layout error: at byte {here}, asked to pad to {position}")
        self._f.write(b"\0" * (position - here))

    def write(self, name: str, array: np.ndarray) -> None:
        entry = self.entries[self._next]
        if entry.name != name:
            raise ValueError(f"expected tensor {entry.name} next, got {name}")
        data = np.ascontiguousarray(array)
        # A block format arrives as uint8 [rows, row bytes]: its rows must match, and its bytes.
        shape_ok = (data.shape[0] == entry.shape[0] if is_block_dtype(entry.dtype)
                    else tuple(data.shape) == entry.shape)
        if not shape_ok or data.nbytes != entry.nbytes:
            raise ValueError(f"{name}: planned {entry.shape} ({entry.nbytes} bytes), "
                             f"got {tuple(data.shape)} ({data.nbytes} bytes)")
        self._pad_to(self._data_start + entry.offset)
        self._f.write(data.tobytes(order="C"))
        self._next += 1

    def close(self) -> None:
        if self._next != len(self.entries):
            missing = [e.name for e in self.entries[self._next:]]
            self.abort()
            raise ValueError(f"export incomplete, tensors never written: {missing[:5]}")
        self._f.flush()
        os.fsync(self._f.fileno())  # the rename must not publish a file whose bytes are not on disk
        self._f.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        if not self._f.closed:
            self._f.close()
        if os.path.exists(self._tmp):
            os.remove(self._tmp)


def to_bf16_bits(array: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns (uint16), rounding to nearest even as torch does."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_bits_to_f32(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


def quantize_i8(array: np.ndarray, group_size: int, symmetric: bool = True
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Group-wise int8 along the last axis: (values int8, scales f32 [rows, cols/G], offsets f32
    [rows, cols/G] or None), an element being q * scale + offset.

    Symmetric: scale = max|w| / 127, no offset. Asymmetric: the group's [min, max] is spread over
    q in [-128, 127], offset = min + 128 * scale, using all 256 levels whatever the group's sign
    balance (and reproducing 4-bit min/scale GGUF blocks exactly)."""
    rows, cols = array.shape
    groups = array.astype(np.float32).reshape(rows, cols // group_size, group_size)
    if symmetric:
        scales = np.abs(groups).max(axis=2) / np.float32(127.0)
        offsets = None
        low, high = -127, 127
    else:
        lo, hi = groups.min(axis=2), groups.max(axis=2)
        scales = (hi - lo) / np.float32(255.0)
        offsets = (lo + np.float32(128.0) * scales).astype(np.float32)
        low, high = -128, 127
    safe = np.where(scales == 0, 1.0, scales)[:, :, None]
    centred = groups if offsets is None else groups - offsets[:, :, None]
    values = np.clip(np.rint(centred / safe), low, high).astype(np.int8)
    return values.reshape(rows, cols), scales.astype(np.float32), offsets


def read_weights(path: str) -> tuple[dict, dict[str, np.ndarray]]:
    """Reads a weights file back: (header, {name: array view}). For tests and tools."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    magic, version, _flags, header_len = PREAMBLE.unpack(bytes(raw[:PREAMBLE.size]))
    if magic != MAGIC:
        raise ValueError(f"{path}: not a libinfer weights file")
    if version != FORMAT_VERSION:
        raise ValueError(f"{path}: format version {version}, expected {FORMAT_VERSION}")
    header = json.loads(bytes(raw[PREAMBLE.size:PREAMBLE.size + header_len]).decode("utf-8"))
    start = data_start(header_len)
    arrays = {}
    for t in header["tensors"]:
        begin = start + t["offset"]
        data = raw[begin:begin + t["bytes"]]
        if is_block_dtype(t["dtype"]):  # uint8 [rows, row bytes]
            arrays[t["name"]] = data.reshape(t["shape"][0], -1)
        else:
            arrays[t["name"]] = data.view(NUMPY_DTYPES[t["dtype"]]).reshape(t["shape"])
    return header, arrays


def read_weights_f32(path: str) -> tuple[dict, dict[str, np.ndarray]]:
    """Reads a weights file back with every weight as the f32 values the runtime computes with
    (bf16 bits widened, i8 times its scales plus offsets, blocks dequantized by the gguf
    package); scale/offset tensors are folded in."""
    header, arrays = read_weights(path)
    dtypes = {t["name"]: t["dtype"] for t in header["tensors"]}
    shapes = {t["name"]: t["shape"] for t in header["tensors"]}
    out = {}
    for name, array in arrays.items():
        if name.endswith((".scales", ".offsets")):
            continue
        dtype = dtypes[name]
        if is_block_dtype(dtype):
            out[name] = quants.dequantize(array, dtype, shapes[name][-1])
        elif dtype == "bf16":
            out[name] = bf16_bits_to_f32(array)
        elif dtype == "i8":
            scales = arrays[name + ".scales"]
            rows, groups = scales.shape
            values = array.reshape(rows, groups, -1).astype(np.float32) * scales[:, :, None]
            if name + ".offsets" in arrays:
                values += arrays[name + ".offsets"][:, :, None]
            out[name] = values.reshape(array.shape)
        else:
            out[name] = array.astype(np.float32)
    return header, out
